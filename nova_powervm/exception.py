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
"""Exceptions raised by the PowerVM driver.

All of them are nova exceptions, so that nova's compute manager records a
readable instance fault and picks the right reaction (abort the build,
reschedule, set the instance to ERROR).  pypowervm errors are turned into
these (or into stock nova exceptions) in
``nova_powervm.virt.powervm.errors`` only.
"""

from nova import exception
from nova.i18n import _


class InvalidExtraSpec(exception.InvalidInput):
    """A ``powervm:*`` flavor extra spec is unknown or has a bad value.

    A subclass of ``InvalidInput`` so that nova aborts the build (no
    reschedule: every host would refuse the flavor the same way).
    """

    msg_fmt = _("Invalid flavor extra spec %(key)s=%(value)s: %(reason)s")


class LPARBuildFailed(exception.InvalidInput):
    """The flavor and image do not make a valid partition on this host."""

    msg_fmt = _("Cannot build a partition for instance %(instance)s: "
                "%(reason)s")


class PowerVMAPIFailed(exception.NovaException):
    """A NovaLink REST request failed in a way nova has no exception for."""

    msg_fmt = _("PowerVM API request %(operation)s failed: %(reason)s")


class PowerVMNotFound(PowerVMAPIFailed):
    """A NovaLink object the driver needed does not exist (HTTP 404)."""

    msg_fmt = _("PowerVM API request %(operation)s failed: an object it "
                "needs was not found (%(reason)s)")


class PowerVMTimeout(PowerVMAPIFailed):
    """A NovaLink REST request timed out (HTTP 408 or no reply in time)."""

    msg_fmt = _("PowerVM API request %(operation)s timed out: %(reason)s")


class PowerVMConflict(PowerVMAPIFailed):
    """An object changed under a request more often than it was retried.

    NovaLink refuses an update whose etag is stale (HTTP 412); pypowervm
    re-reads and retries, and this is what is left when the retries ran
    out.
    """

    msg_fmt = _("PowerVM API request %(operation)s failed: the object kept "
                "changing under the request (HTTP 412); try again "
                "(%(reason)s)")


class VIOSBusy(PowerVMAPIFailed):
    """A Virtual I/O Server stayed busy through pypowervm's retries."""

    msg_fmt = _("PowerVM API request %(operation)s failed: the Virtual I/O "
                "Server is busy with another operation; try again later "
                "(%(reason)s)")


class PowerVMJobFailed(PowerVMAPIFailed):
    """A NovaLink job ended in error."""

    msg_fmt = _("PowerVM job %(operation)s failed: %(reason)s")


class PowerVMJobTimedOut(PowerVMJobFailed):
    """A NovaLink job did not finish within its timeout."""

    msg_fmt = _("PowerVM job %(operation)s did not finish in time: "
                "%(reason)s")


class NotSupportedYet(exception.NovaException, NotImplementedError):
    """An operation this driver does not implement (yet).

    Raised before the partition is touched, so the server keeps its
    state and the instance action or fault names what is missing.  A
    ``NotImplementedError`` too, which is what nova checks for where it
    treats a missing driver feature gently.
    """

    msg_fmt = _("The PowerVM driver does not support %(operation)s yet.")


class VolumeProtocolNotSupported(exception.VolumeDriverNotFound):
    """A volume's ``driver_volume_type`` has no PowerVM connector."""

    msg_fmt = _("Volume %(volume_id)s uses %(protocol)s, which the PowerVM "
                "driver cannot attach (supported: %(supported)s).")


class NovaLinkNotReachable(exception.HypervisorUnavailable):
    """The NovaLink REST server did not accept a logon in time."""

    msg_fmt = _("Cannot log on to the NovaLink REST API at %(dest)s within "
                "%(timeout)d seconds: %(reason)s")


class NoActiveVIOS(exception.HypervisorUnavailable):
    """No Virtual I/O Server became active in time."""

    msg_fmt = _("No Virtual I/O Server became active within %(timeout)d "
                "seconds.")


class ManagementPartitionNotFound(exception.HypervisorUnavailable):
    """Not exactly one NovaLink management partition was found."""

    msg_fmt = _("Expected one management partition, found %(count)d.")


class VNCConsoleFailed(exception.ConsoleTypeUnavailable):
    """The VNC terminal of a partition could not be opened."""

    msg_fmt = _("Cannot open the VNC console of instance %(instance)s: "
                "%(reason)s")


class DiskNotReadable(exception.NovaException):
    """The management partition could not read a disk (snapshot)."""

    msg_fmt = _("The disk %(disk)s could not be read on the NovaLink "
                "partition: %(reason)s")


class UnsupportedImageFormat(exception.ImageUnacceptable):
    """An image whose disk format the driver cannot write to a disk.

    A subclass of ``ImageUnacceptable``, so nova aborts the build (every
    PowerVM host would refuse it) and the fault names the format.
    """

    msg_fmt = _("Image %(image_id)s is unacceptable: its disk format "
                "%(disk_format)s is not supported by the PowerVM driver "
                "(supported: %(supported)s).")


class InterfaceHotplugNotPossible(exception.NovaException):
    """A running partition cannot take or give up a network adapter now."""

    msg_fmt = _("Cannot %(action)s a network interface of instance "
                "%(instance)s while its partition runs: %(reason)s")
