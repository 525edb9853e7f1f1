# Copyright 2026 The nova-powervm authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.
"""Flow tasks about network adapters."""

from nova import exception as nova_exc
from oslo_log import log as logging
from taskflow.types import failure as tf_failure

from nova_powervm import conf as pvm_conf
from nova_powervm import exception as exc
from nova_powervm.virt.powervm import device_metadata
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm.tasks import base
from nova_powervm.virt.powervm import vif as pvm_vif
from nova_powervm.virt.powervm import vm

LOG = logging.getLogger(__name__)
CONF = pvm_conf.CONF


def neutron_events(network_info):
    """The ``network-vif-plugged`` events to wait for.

    Only VIFs that Neutron reports as not yet active will send one.

    :param network_info: nova ``NetworkInfo``.
    :returns: list of ``(name, vif id)``.
    """
    if not CONF.vif_plugging_timeout:
        return []
    return [('network-vif-plugged', v['id']) for v in network_info or ()
            if v.get('active', True) is False]


class PlugVifs(base.PowerVMTask):
    """One client network adapter per VIF, then wait for Neutron.

    Waits for the ``network-vif-plugged`` events through nova's
    ``wait_for_instance_event``; a timeout fails the spawn only when
    ``[DEFAULT] vif_plugging_is_fatal`` is true.  Revert deletes the
    adapters it created.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param network_info: nova ``NetworkInfo``.
    :param new_lpar: the partition was just created, so it has no adapter
                     yet (saves the GET of its adapters).
    :param wait: wait for Neutron's events (spawn); ``plug_vifs`` at
                 service start does not.
    """

    def __init__(self, ctx, instance, network_info, new_lpar=True,
                 wait=True):
        super().__init__(instance, 'plug_vifs', provides='vm_cnas',
                         requires=['lpar_wrap'])
        self.ctx = ctx
        self.network_info = network_info or []
        self.new_lpar = new_lpar
        self.wait = wait
        self.created = []

    def _failed(self, event_name, instance):
        LOG.error('Neutron reported failure on event %s.', event_name,
                  instance=instance)
        if CONF.vif_plugging_is_fatal:
            raise nova_exc.VirtualInterfaceCreateException()

    def _plug_all(self, lpar_wrap):
        vifs = [pvm_vif.get_vif(self.ctx.adapter, self.ctx.cache, v,
                                ctx=self.ctx, instance=self.instance)
                for v in self.network_info]
        existing = None
        if not self.new_lpar and any(
                v.vif_type != pvm_vif.VIF_TYPE_PVM_SRIOV for v in vifs):
            existing = pvm_vif.get_cnas(self.ctx.adapter, lpar_wrap.uuid)
        elif not self.new_lpar:
            existing = []
        for vif in vifs:
            try:
                with errors.translate('plug VIF %s' % vif.vif['id'],
                                      instance=self.instance):
                    made = vif.plug(lpar_wrap, existing)
            except exc.PowerVMAPIFailed as error:
                raise nova_exc.VirtualInterfacePlugException(
                    plug_failure(vif, error))
            if made is not None:
                self.created.append((vif, made))

    def _result(self):
        return [made for _vif, made in self.created]

    def execute(self, lpar_wrap):
        events = neutron_events(self.network_info) if self.wait else []
        if not events:
            self._plug_all(lpar_wrap)
            return self._result()
        try:
            with self.ctx.virtapi.wait_for_instance_event(
                    self.instance, events,
                    timeout=CONF.vif_plugging_timeout,
                    error_callback=self._failed):
                self._plug_all(lpar_wrap)
        except nova_exc.InstanceEventTimeout:
            if CONF.vif_plugging_is_fatal:
                raise nova_exc.VirtualInterfaceCreateException()
            LOG.warning('Timed out waiting for VIF plug events; going on.',
                        instance=self.instance)
        return self._result()

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        for vif, made in self.created:
            self.best_effort('remove the adapter of VIF %s' % vif.vif['id'],
                             vif.remove, made)
        self.created = []


def plug_failure(vif, error):
    """The message of a failed plug; the RMC refusal said plainly.

    :param vif: the ``PowerVif``.
    :param error: the ``PowerVMAPIFailed``.
    """
    text = error.format_message()
    if 'HSCLA246' in text:
        return ('Cannot hot plug VIF %s (%s): the running partition has no '
                'active RMC connection to the NovaLink partition, which a '
                'dynamic adapter change needs. Stop the server or wait for '
                'RMC to become active, then try again. (%s)'
                % (vif.vif['id'], vif.vif_type, text))
    return text


class PlugMgmtVif(base.PowerVMTask):
    """The RMC management adapter (``[powervm] use_rmc_mgmt_vif``).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'plug_mgmt_vif', provides='mgmt_cna',
                         requires=['lpar_wrap'])
        self.ctx = ctx

    def execute(self, lpar_wrap):
        with errors.translate('plug management VIF', instance=self.instance):
            return pvm_vif.plug_mgmt_vif(self.ctx.adapter, self.ctx.cache,
                                         lpar_wrap)

    def revert(self, lpar_wrap, result, flow_failures, **kwargs):
        if result is not None and not isinstance(result, tf_failure.Failure):
            self.best_effort('delete management CNA', pvm_vif.delete_cna,
                             result)


class UnplugVifs(base.PowerVMTask):
    """Delete the adapters of the given VIFs (GET CNAs, DELETE each).

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param network_info: nova ``NetworkInfo``.
    """

    def __init__(self, ctx, instance, network_info):
        super().__init__(instance, 'unplug_vifs')
        self.ctx = ctx
        self.network_info = network_info or []

    def execute(self):
        lpar_uuid = vm.get_pvm_uuid(self.instance)
        vifs = [pvm_vif.get_vif(self.ctx.adapter, self.ctx.cache, v,
                                ctx=self.ctx, instance=self.instance)
                for v in self.network_info]
        cnas = []
        if any(v.vif_type != pvm_vif.VIF_TYPE_PVM_SRIOV for v in vifs):
            cnas = pvm_vif.get_cnas(self.ctx.adapter, lpar_uuid)
        for vif in vifs:
            try:
                with errors.translate('unplug VIF %s' % vif.vif['id']):
                    vif.unplug(cnas, lpar_uuid)
            except exc.PowerVMAPIFailed as error:
                raise nova_exc.VirtualInterfaceUnplugException(
                    reason=plug_failure(vif, error))

    def revert(self, *args, **kwargs):
        """Unplugged adapters are plugged again by plug_vifs on demand."""


class RemoveOvsTrunks(base.PowerVMTask):
    """Remove the trunk adapters and OVS ports of a deleted partition.

    Deleting a partition deletes its own adapters; the trunk adapters of
    its ``ovs`` VIFs belong to the NovaLink partition and stay unless
    removed (one GET of its adapters, one DELETE per trunk).  Nothing to
    revert: the partition is gone.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    """

    def __init__(self, ctx, instance):
        super().__init__(instance, 'remove_ovs_trunks')
        self.ctx = ctx

    def execute(self):
        pvm_vif.remove_trunks(self.ctx, [self.instance.uuid])

    def revert(self, *args, **kwargs):
        """The partition is gone; its trunks have no use."""


class NotifyAgents(base.PowerVMTask):
    """Tell the network agents that the partition's adapters changed.

    One PUT of a custom event (``vif.notify_agent``).  Nothing to revert:
    an agent that looks again finds the adapters as they are.

    :param ctx: ``HostContext``.
    :param instance: nova ``Instance``.
    :param action: ``plug`` (a failure fails the flow: the agent would
                   not bind the new adapter before its next scan) or
                   ``unplug`` (a failure is only logged: the adapter is
                   gone already and the agent's next scan sees it).
    """

    def __init__(self, ctx, instance, action):
        super().__init__(instance, 'notify_agents_%s' % action,
                         requires=['lpar_wrap'])
        self.ctx = ctx
        self.action = action

    def execute(self, lpar_wrap):
        if self.action == 'plug':
            pvm_vif.notify_agent(self.ctx.adapter, lpar_wrap, self.action)
            return
        try:
            pvm_vif.notify_agent(self.ctx.adapter, lpar_wrap, self.action)
        except nova_exc.NovaException as error:
            LOG.warning('Could not tell the network agents about the '
                        'removed adapter: %s', error.format_message(),
                        instance=self.instance)

    def revert(self, *args, **kwargs):
        """An event cannot be taken back; nothing was created."""


class UpdateDeviceMetadata(base.PowerVMTask):
    """Set the instance's device metadata from its tagged interfaces.

    No REST call (one database read); nova saves the instance after the
    operation.  Revert puts the previous value back.

    :param instance: nova ``Instance``.
    :param context: nova ``RequestContext``.
    :param without_macs: MACs of interfaces being removed.
    """

    def __init__(self, instance, context, without_macs=()):
        super().__init__(instance, 'update_device_metadata')
        self.context = context
        self.without_macs = tuple(without_macs)
        self.previous = None
        self.done = False

    def execute(self):
        self.previous = device_metadata.update(self.context, self.instance,
                                               self.without_macs)
        self.done = True

    def revert(self, *args, **kwargs):
        if self.done:
            self.instance.device_metadata = self.previous
            self.done = False
