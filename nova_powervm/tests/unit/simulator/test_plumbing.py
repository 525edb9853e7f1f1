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
"""Small pieces: chunked decoding, stats patterns, group merging."""

import io

from lxml import etree

from nova_powervm.simulator import http
from nova_powervm.simulator import registry
from nova_powervm.simulator import stats
from nova_powervm.simulator import xmlutil as xu
from nova_powervm.tests import base as tests_base


class TestPlumbing(tests_base.TestCase):

    def test_chunked_reader(self):
        raw = io.BytesIO(b'5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n'
                         b'Trailer: x\r\n\r\nNEXT')
        reader = http.ChunkedReader(raw)
        self.assertEqual(b'hel', reader.read(3))
        self.assertEqual(b'lo world', reader.read())
        self.assertEqual(b'', reader.read(10))
        self.assertEqual(b'NEXT', raw.read())

    def test_chunked_reader_into_a_buffer(self):
        # A read spanning chunks fills the caller's buffer straight from
        # the stream; the encoding never shows.
        pieces = [b'a' * 5, b'b' * 70000, b'c' * 3]
        raw = io.BytesIO(b''.join(b'%x\r\n%b\r\n' % (len(p), p)
                                  for p in pieces) + b'0\r\n\r\n')
        reader = http.ChunkedReader(raw)
        buf = bytearray(65536)
        self.assertEqual(65536, reader.readinto(buf))
        self.assertEqual(b'a' * 5 + b'b' * 65531, bytes(buf))
        self.assertEqual(b'b' * 4469 + b'ccc', reader.read(1024 * 1024))
        self.assertEqual(0, reader.readinto(buf))

    def test_chunked_body_cut_short_is_an_error(self):
        # A client that dies mid-upload must not leave a "complete",
        # shorter file behind.
        for body in (b'10\r\nonly-part', b'5\r\nhello\r\n'):
            reader = http.ChunkedReader(io.BytesIO(body))
            err = self.assertRaises(registry.SimError, reader.read,
                                    1024 * 1024)
            self.assertEqual(400, err.status)
            self.assertIn('Incomplete', str(err))

    def test_limited_reader_into_a_buffer(self):
        reader = http.LimitedReader(io.BytesIO(b'x' * 100 + b'NEXT'), 100)
        buf = bytearray(64)
        self.assertEqual(64, reader.readinto(buf))
        self.assertEqual(36, reader.readinto(buf))
        self.assertEqual(0, reader.readinto(buf))

    def test_stats_patterns(self):
        uuid = '1C3E4D5A-0000-4000-8000-00000000ABCD'
        self.assertEqual(
            '/rest/api/uom/LogicalPartition/{uuid}/quick/{prop}',
            stats.pattern('/rest/api/uom/LogicalPartition/%s/quick/'
                          'PartitionState' % uuid))
        self.assertEqual('/rest/api/uom/jobs/{id}',
                         stats.pattern('/rest/api/uom/jobs/1234567'))
        self.assertEqual(
            '/rest/api/uom/VirtualIOServer/search/{query}',
            stats.pattern("/rest/api/uom/VirtualIOServer/search/"
                          "(PartitionID=='3')"))

    def test_merge_groups_keeps_unrequested(self):
        stored = xu.parse(
            b'<VirtualIOServer xmlns="%s"><PartitionName>v</PartitionName>'
            b'<PhysicalVolumes group="ViosStorage"><PhysicalVolume/>'
            b'</PhysicalVolumes><VirtualFibreChannelMappings '
            b'group="ViosFCMapping"><X/></VirtualFibreChannelMappings>'
            b'<VirtualSCSIMappings group="ViosSCSIMapping"><Y/>'
            b'</VirtualSCSIMappings></VirtualIOServer>' %
            xu.UOM.encode())
        body = xu.parse(
            b'<uom:VirtualIOServer xmlns:uom="%s"><uom:PartitionName>v'
            b'</uom:PartitionName><uom:VirtualSCSIMappings '
            b'group="ViosSCSIMapping"/></uom:VirtualIOServer>' %
            xu.UOM.encode())
        new = registry.merge_groups(stored, body, {'ViosSCSIMapping'})
        self.assertEqual(['PartitionName', 'PhysicalVolumes',
                          'VirtualFibreChannelMappings',
                          'VirtualSCSIMappings'], xu.child_tags(new))
        self.assertEqual(0, len(xu.find(new, 'VirtualSCSIMappings')))
        self.assertNotIn(b'uom:', etree.tostring(new))
