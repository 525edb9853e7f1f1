#!/bin/bash
# devstack plugin of nova-powervm, the PowerVM compute driver for Nova.
#
# Enable it in local.conf with
#     enable_plugin nova-powervm <git URL of nova-powervm> [branch]
# and see local.conf.aio and local.conf.compute beside this file.
#
# stack install      install nova-powervm into the Python environment of
#                    nova, on every node (on API nodes it adds the
#                    powervm:* flavor extra spec validator)
# stack post-config  on compute nodes: [DEFAULT] compute_driver and
#                    [powervm] in nova.conf (devstack copies nova.conf to
#                    nova-cpu.conf when it starts nova-compute)
# clean              uninstall nova-powervm

_XTRACE_NOVA_POWERVM=$(set +o | grep xtrace)
set -o xtrace

# The python of the environment devstack installs nova into.
function _nova_powervm_python {
    if [[ -n "${PIP_VIRTUAL_ENV:-}" && -x "$PIP_VIRTUAL_ENV/bin/python3" ]]; then
        echo "$PIP_VIRTUAL_ENV/bin/python3"
    elif [[ -x "${NOVA_BIN_DIR:-}/python3" ]]; then
        echo "$NOVA_BIN_DIR/python3"
    else
        echo python3
    fi
}

# install_nova_powervm - install the package next to nova and check that
# nova can import the driver through the nova/virt/powervm_ext shim.
function install_nova_powervm {
    if [[ "$NOVA_POWERVM_DEVELOP" == "True" ]]; then
        setup_develop "$NOVA_POWERVM_DIR"
    else
        setup_install "$NOVA_POWERVM_DIR"
    fi
    local python
    python=$(_nova_powervm_python)
    if ! "$python" -c 'import nova.virt.powervm_ext.driver'; then
        die $LINENO "nova cannot import nova.virt.powervm_ext.driver:" \
            "nova-powervm must be installed into nova's own environment"
    fi
}

# _nova_powervm_check - refuse a configuration nova-compute would reject,
# before anything is written.
function _nova_powervm_check {
    if [[ "$VIRT_DRIVER" != "$NOVA_POWERVM_VIRT_DRIVER" ]]; then
        die $LINENO "Set VIRT_DRIVER=$NOVA_POWERVM_VIRT_DRIVER on a node" \
            "that runs nova-compute with nova-powervm"
    fi
    case "$NOVA_POWERVM_DISK_DRIVER" in
        localdisk)
            if [[ -z "$NOVA_POWERVM_VOLUME_GROUP_NAME" ]]; then
                die $LINENO "Set NOVA_POWERVM_VOLUME_GROUP_NAME to a VIOS" \
                    "volume group for NOVA_POWERVM_DISK_DRIVER=localdisk"
            fi
            ;;
        *)
            die $LINENO "NOVA_POWERVM_DISK_DRIVER must be localdisk (the" \
                "only disk driver so far), not '$NOVA_POWERVM_DISK_DRIVER'"
            ;;
    esac
}

# configure_nova_powervm - point nova-compute at the PowerVM driver.
function configure_nova_powervm {
    _nova_powervm_check
    iniset "$NOVA_CONF" DEFAULT compute_driver \
        powervm_ext.driver.PowerVMDriver
    iniset "$NOVA_CONF" powervm disk_driver "$NOVA_POWERVM_DISK_DRIVER"
    iniset "$NOVA_CONF" powervm volume_group_name \
        "$NOVA_POWERVM_VOLUME_GROUP_NAME"
    if [[ -n "$NOVA_POWERVM_PROC_UNITS_FACTOR" ]]; then
        iniset "$NOVA_CONF" powervm proc_units_factor \
            "$NOVA_POWERVM_PROC_UNITS_FACTOR"
    fi
    if getent group "$NOVA_POWERVM_ADMIN_GROUP" >/dev/null; then
        # Taken into account when the service starts (systemd reads the
        # groups of the user at each start).
        add_user_to_group "$STACK_USER" "$NOVA_POWERVM_ADMIN_GROUP"
    else
        warn $LINENO "No group $NOVA_POWERVM_ADMIN_GROUP: is this a" \
            "NovaLink partition?  Local logon to the REST API will fail."
    fi
}

if [[ "$1" == "stack" && "$2" == "install" ]]; then
    echo_summary "Installing nova-powervm"
    install_nova_powervm
elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
    if is_service_enabled n-cpu; then
        echo_summary "Configuring nova-compute for PowerVM"
        configure_nova_powervm
    fi
fi

if [[ "$1" == "clean" ]]; then
    pip_uninstall nova-powervm
fi

$_XTRACE_NOVA_POWERVM
