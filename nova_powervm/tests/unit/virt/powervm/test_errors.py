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
"""errors.py: what each NovaLink failure becomes for nova and the user.

The HTTP failures are real ones: the simulator injects them and
pypowervm raises what it raises against a real host.
"""

from nova import exception as nova_exc
from pypowervm import exceptions as pvm_exc
from pypowervm.wrappers import logical_partition as pvm_lpar

from nova_powervm import exception as pvm_exception
from nova_powervm.tests.unit.virt.powervm import flowbase
from nova_powervm.virt.powervm import driver as pvm_driver
from nova_powervm.virt.powervm import errors
from nova_powervm.virt.powervm import power
from nova_powervm.virt.powervm import vm

SECRET = 'Pa55-w0rd-never-shown'


class TestTranslate(flowbase.FlowTestCase):

    def setUp(self):
        super().setUp()
        self.inst = self.instance()
        vm.create_lpar(self.adapter, self.host_wrapper(), self.inst)

    def read(self, operation='read partition', instance=None, **kwargs):
        """Read the partition through ``errors.translate``."""
        with errors.translate(operation, instance=instance):
            return pvm_lpar.LPAR.get(self.adapter,
                                     uuid=vm.get_pvm_uuid(self.inst),
                                     **kwargs)

    def fail_next(self, **fault):
        self.sim.add_fault(method='GET', path='/LogicalPartition/', **fault)

    def test_404_with_an_instance_is_instance_not_found(self):
        gone = self.instance()
        err = self.assertRaises(nova_exc.InstanceNotFound,
                                vm.get_instance_wrapper, self.adapter, gone)
        self.assertIn(gone.uuid, err.format_message())

    def test_404_without_an_instance(self):
        self.fail_next(kind='http', status=404, message='HSCL0001 gone')
        err = self.assertRaises(pvm_exception.PowerVMNotFound, self.read,
                                'read volume group')
        self.assertIn('read volume group', err.format_message())
        self.assertIn('was not found', err.format_message())

    def test_408_is_a_timeout(self):
        self.fail_next(kind='http', status=408, message='too slow')
        err = self.assertRaises(pvm_exception.PowerVMTimeout, self.read)
        self.assertIn('read partition timed out', err.format_message())

    def test_412_is_a_conflict(self):
        self.fail_next(kind='etag_conflict')
        err = self.assertRaises(pvm_exception.PowerVMConflict, self.read)
        self.assertIn('kept changing', err.format_message())
        self.assertIn('HTTP 412', err.format_message())

    def test_500_is_an_api_failure_with_the_host_text(self):
        self.fail_next(kind='http', status=500, message='HSCL9999 broken')
        err = self.assertRaises(pvm_exception.PowerVMAPIFailed, self.read)
        self.assertIs(pvm_exception.PowerVMAPIFailed, type(err))
        self.assertIn('PowerVM API request read partition failed',
                      err.format_message())
        self.assertIn('HSCL9999 broken', err.format_message())

    def test_vios_busy(self):
        self.fail_next(kind='vios_busy')
        err = self.assertRaises(pvm_exception.VIOSBusy, self.read)
        self.assertIn('Virtual I/O Server is busy', err.format_message())
        self.assertIn('VIOS0014', err.format_message())

    def test_503_is_busy_too(self):
        self.fail_next(kind='http', status=503, message='later')
        self.assertRaises(pvm_exception.VIOSBusy, self.read)

    def test_hung_request(self):
        # A request the host never answers ends in a gateway timeout.
        self.fail_next(kind='hang', seconds=1)
        err = self.assertRaises(pvm_exception.PowerVMTimeout, self.read)
        self.assertIn('timed out', err.format_message())

    def test_client_side_timeout(self):
        err = errors.to_nova(pvm_exc.TimeoutError('no reply in 60 s'),
                             'read partition')
        self.assertIsInstance(err, pvm_exception.PowerVMTimeout)
        self.assertIn('no reply in 60 s', err.format_message())

    def test_connection_failure(self):
        err = errors.to_nova(pvm_exc.ConnectionError('refused'), 'logon')
        self.assertIsInstance(err, nova_exc.HypervisorUnavailable)

    def test_job_failure(self):
        self.sim.add_fault(method='PUT', path='/do/PowerOn', kind='job_fail',
                           job='PowerOn', message='HSCL1234 no power')
        lpar_w = vm.get_instance_wrapper(self.adapter, self.inst)
        err = self.assertRaises(pvm_exception.PowerVMJobFailed,
                                power.run_job, self.hctx, lpar_w,
                                power.pvm_popts.PowerOnOpts())
        self.assertIn('PowerVM job PowerOn of partition', err.format_message())
        self.assertIn('HSCL1234 no power', err.format_message())

    def test_job_timeout(self):
        self.sim.sim.job_seconds = 5
        self.addCleanup(setattr, self.sim.sim, 'job_seconds', 0)
        lpar_w = vm.get_instance_wrapper(self.adapter, self.inst)
        err = self.assertRaises(pvm_exception.PowerVMJobTimedOut,
                                power.run_job, self.hctx, lpar_w,
                                power.pvm_popts.PowerOnOpts(), timeout=1)
        self.assertIn('did not finish in time', err.format_message())

    def test_nova_errors_pass_untouched(self):
        def boom():
            with errors.translate('anything'):
                raise nova_exc.InstanceNotFound(instance_id='x')
        self.assertRaises(nova_exc.InstanceNotFound, boom)

    def test_secrets_are_masked(self):
        self.fail_next(kind='http', status=500,
                       message="password='%s' rejected" % SECRET)
        err = self.assertRaises(pvm_exception.PowerVMAPIFailed, self.read)
        self.assertNotIn(SECRET, err.format_message())

    def test_ignore_missing(self):
        self.fail_next(kind='http', status=404)
        with errors.ignore_missing():
            self.read('read something gone')
        self.fail_next(kind='http', status=500)
        self.assertRaises(pvm_exception.PowerVMAPIFailed,
                          self._read_ignoring_missing)

    def _read_ignoring_missing(self):
        with errors.ignore_missing():
            self.read()


class TestBoundaryByConstruction(flowbase.FlowTestCase):
    """Nothing from pypowervm reaches nova, even where no one opted in."""

    def test_every_public_driver_method_translates(self):
        cls = pvm_driver.PowerVMDriver
        public = [name for name, attr in vars(cls).items()
                  if callable(attr) and not name.startswith('_')]
        self.assertIn('spawn', public)
        unwrapped = [name for name in public
                     if not hasattr(getattr(cls, name), '__wrapped__')]
        self.assertEqual([], unwrapped)

    def test_driver_method_error_reaches_nova_translated(self):
        drv = pvm_driver.PowerVMDriver(self.virtapi)
        drv._ctx = self.hctx
        self.sim.add_fault(method='GET', path='/LogicalPartition$',
                           kind='http', status=500, message='HSCL0500')
        err = self.assertRaises(pvm_exception.PowerVMAPIFailed,
                                drv.list_instances)
        self.assertIn('HSCL0500', err.format_message())

    def test_flow_tasks_translate(self):
        from nova_powervm.virt.powervm.tasks import base

        class Raw(base.PowerVMTask):
            def __init__(self, adapter):
                super().__init__(None, 'raw_read')
                self.adapter = adapter

            def execute(self):
                return self.adapter.read('LogicalPartition', 'missing')

        err = self.assertRaises(pvm_exception.PowerVMNotFound,
                                Raw(self.adapter).execute)
        self.assertIn('raw read', err.format_message())
