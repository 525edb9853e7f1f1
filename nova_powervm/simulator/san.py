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
"""A simulated SAN: LUNs that the simulated hosts' VIOSes can reach.

One :class:`SAN` is shared by every Simulator of a process started with
the same directory (``san_dir``), as the Shared Storage Pool is (see
:mod:`nova_powervm.simulator.pool`); a Simulator without one gets a
private SAN in ``<state_dir>/san``.  Its state (``san.json``) is written
at every change, so it survives restarts.

The SAN has fixed FC target ports and two iSCSI portals.  A LUN has a
name (a Cinder volume id, say), a size, a UDID derived from its page-83
NAA identifier, a LUN number, a masking (the FC WWPNs and iSCSI IQNs
allowed to see it) and optional CHAP credentials.  A VIOS sees a LUN,
as an hdisk in its ``PhysicalVolumes``, only after a LUARecovery job
whose ITLs lead from one of its FC ports in the masking to the LUN, or
after an ISCSIDiscovery login from its initiator with the right CHAP
(see :mod:`nova_powervm.simulator.resources.pv`).

The admin API lives under ``/sim/san`` (see :func:`admin_request`);
:class:`SANClient` is its Python client and :func:`connection_info`
builds the Cinder connection info of a LUN, so the functional tests'
CinderFixture and the sandbox's Cinder driver give nova the same shapes.

Lock order: a job holds its simulator's store lock and then takes the
SAN's; the SAN's lock is never held while taking a store lock.
"""

import base64
import copy
import hashlib
import json
import os
import threading
import weakref

import requests

from nova_powervm.simulator import http
from nova_powervm.simulator import registry
from nova_powervm.simulator import xmlutil as xu

STATE_FILE = 'san.json'
#: The SAN's FC target ports (two per fabric).
FC_TARGETS = ('5005076802100a01', '5005076802100a02',
              '5005076802200a01', '5005076802200a02')
#: The iSCSI portals (the second one for multipath).
ISCSI_PORTALS = ('127.0.0.1:3260', '127.0.0.2:3260')
IQN_PREFIX = 'iqn.2026-12.org.powervm-sim:'

_SANS = {}
_SANS_LOCK = threading.Lock()


class SANError(Exception):
    """A refused SAN operation.

    :param status: the HTTP status of the admin API.
    :param message: what is wrong.
    """

    def __init__(self, status, message):
        super(SANError, self).__init__(message)
        self.status = status
        self.message = message


def normalize_wwpn(wwpn):
    """A WWPN lower-case without colons."""
    return (wwpn or '').lower().replace(':', '')


def lua_of(lun_number):
    """The PowerVM LUN address of a LUN number (as pypowervm builds it).

    :param lun_number: the LUN number (int).
    """
    lun = '%x' % int(lun_number)
    return lun + ('00000000' if len(lun) == 8 else '000000000000')


def target_iqn(name):
    """The iSCSI target IQN of a LUN.

    :param name: the LUN name.
    """
    return IQN_PREFIX + name


class SAN(object):
    """LUNs, masking and CHAP of one simulated SAN.

    :param root: the SAN directory.
    """

    def __init__(self, root):
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.lock = threading.RLock()
        self.fc_targets = list(FC_TARGETS)
        self.iscsi_portals = list(ISCSI_PORTALS)
        self._luns = {}
        self._next_lun = 1
        self._members = weakref.WeakSet()
        self.users = 0
        path = os.path.join(root, STATE_FILE)
        if os.path.exists(path):
            with open(path) as fil:
                data = json.load(fil)
            self._luns = data.get('luns', {})
            self._next_lun = data.get('next_lun', 1)

    # Membership ------------------------------------------------------
    @property
    def members(self):
        """The Simulators on this SAN."""
        with self.lock:
            return list(self._members)

    def add_member(self, sim):
        with self.lock:
            self._members.add(sim)

    def save(self):
        """Write the SAN's state (caller holds the lock)."""
        data = json.dumps({'luns': self._luns, 'next_lun': self._next_lun},
                          indent=1, sort_keys=True)
        tmp = os.path.join(self.root, STATE_FILE + '.tmp')
        with open(tmp, 'w') as fil:
            fil.write(data)
        os.replace(tmp, os.path.join(self.root, STATE_FILE))

    # LUNs ---------------------------------------------------------------
    def _udid(self, name, number):
        seed = hashlib.sha1(('%s/%s/%d' % (self.root, name, number))
                            .encode()).hexdigest().upper()
        naa = '60050768' + seed[:24]
        body = 'M2145' + '12' + naa
        return '01M0lC' + base64.b64encode(body.encode()).decode()

    def create_lun(self, name, size_gb):
        """A new LUN (no initiator may see it yet).

        :param name: its name.
        :param size_gb: its size in GiB.
        :returns: the LUN (a copy).
        """
        if not name or not isinstance(name, str) or '/' in name:
            raise SANError(400, 'A LUN needs a name without "/"')
        size = _size(size_gb)
        with self.lock:
            if name in self._luns:
                raise SANError(409, 'LUN %s exists' % name)
            number = self._next_lun
            self._next_lun += 1
            udid = self._udid(name, number)
            self._luns[name] = {
                'name': name, 'size_gb': size, 'udid': udid,
                'naa': base64.b64decode(udid[6:]).decode()[7:],
                'target_lun': number, 'initiators': [], 'chap': None}
            self.save()
            return copy.deepcopy(self._luns[name])

    def lun(self, name):
        """A LUN by name (a copy).

        :raises SANError: 404 when there is none.
        """
        with self.lock:
            lun = self._luns.get(name)
            if lun is None:
                raise SANError(404, 'No LUN %s' % name)
            return copy.deepcopy(lun)

    def luns(self):
        """All LUNs (copies), by LUN number."""
        with self.lock:
            return sorted(copy.deepcopy(list(self._luns.values())),
                          key=lambda x: x['target_lun'])

    def resize(self, name, size_gb):
        """Grow a LUN (a shrink is refused).

        :param name: the LUN.
        :param size_gb: the new size in GiB.
        """
        size = _size(size_gb)
        with self.lock:
            lun = self._get(name)
            if size < lun['size_gb']:
                raise SANError(400, 'LUN %s is %d GiB: it can only grow'
                               % (name, lun['size_gb']))
            lun['size_gb'] = size
            self.save()
            return copy.deepcopy(lun)

    def export(self, name, initiators, chap=None):
        """Let initiators see a LUN; set its CHAP credentials when given.

        :param name: the LUN.
        :param initiators: FC WWPNs or iSCSI IQNs.
        :param chap: ``{'username', 'secret'}`` or None.
        """
        inits = _initiators(initiators)
        if chap is not None and not (
                isinstance(chap, dict) and chap.get('username') and
                chap.get('secret')):
            raise SANError(400, 'chap needs a username and a secret')
        with self.lock:
            lun = self._get(name)
            for init in inits:
                if init not in lun['initiators']:
                    lun['initiators'].append(init)
            if chap is not None:
                lun['chap'] = {'username': chap['username'],
                               'secret': chap['secret']}
            self.save()
            return copy.deepcopy(lun)

    def unexport(self, name, initiators):
        """Hide a LUN from initiators.

        :param name: the LUN.
        :param initiators: FC WWPNs or iSCSI IQNs.
        """
        inits = set(_initiators(initiators))
        with self.lock:
            lun = self._get(name)
            lun['initiators'] = [i for i in lun['initiators']
                                 if i not in inits]
            self.save()
            return copy.deepcopy(lun)

    def delete(self, name):
        """Forget a LUN (the caller checked that nothing maps it)."""
        with self.lock:
            self._get(name)
            del self._luns[name]
            self.save()

    def _get(self, name):
        lun = self._luns.get(name)
        if lun is None:
            raise SANError(404, 'No LUN %s' % name)
        return lun

    # Lookups by the VIOS side -------------------------------------------
    def find_fc(self, target_wwpn, lua):
        """The LUN behind a target port and LUN address, or None.

        :param target_wwpn: a target WWPN.
        :param lua: the LUN address as in an ITL (see :func:`lua_of`).
        """
        if normalize_wwpn(target_wwpn) not in self.fc_targets:
            return None
        with self.lock:
            for lun in self._luns.values():
                if lua_of(lun['target_lun']) == (lua or '').lower():
                    return copy.deepcopy(lun)
        return None

    def find_iscsi(self, iqn):
        """The LUN of a target IQN, or None."""
        if not (iqn or '').startswith(IQN_PREFIX):
            return None
        with self.lock:
            lun = self._luns.get(iqn[len(IQN_PREFIX):])
            return copy.deepcopy(lun) if lun else None

    def by_udid(self, udid):
        """The LUN with this UDID, or None."""
        with self.lock:
            for lun in self._luns.values():
                if lun['udid'] == udid:
                    return copy.deepcopy(lun)
        return None

    # Views ----------------------------------------------------------------
    def doc(self, lun):
        """The admin API document of a LUN (never the CHAP secret).

        Takes the members' store locks: never call it with the SAN lock.

        :param lun: a LUN (from :meth:`lun`).
        """
        chap = lun.get('chap') or {}
        return {'name': lun['name'], 'size_gb': lun['size_gb'],
                'udid': lun['udid'], 'target_lun': lun['target_lun'],
                'target_wwpns': list(self.fc_targets),
                'target_iqn': target_iqn(lun['name']),
                'target_portals': list(self.iscsi_portals),
                'initiators': list(lun['initiators']),
                'chap_username': chap.get('username'),
                'visible_on': self.visible_on(lun['udid'])}

    def _scan(self, udid, what):
        out = []
        for sim in self.members:
            with sim.store.lock:
                host = sim.inventory.system_name
                for vios in sim.store.all('VirtualIOServer'):
                    names = [xu.text(p, 'VolumeName') for p in xu.findall(
                        vios.elem, 'PhysicalVolumes/PhysicalVolume')
                        if xu.text(p, 'UniqueDeviceID') == udid]
                    if not names:
                        continue
                    vname = xu.text(vios.elem, 'PartitionName')
                    if what == 'visible':
                        out.append('%s/%s' % (host, vname))
                        continue
                    for smap in xu.findall(
                            vios.elem,
                            'VirtualSCSIMappings/VirtualSCSIMapping'):
                        pv_name = xu.text(smap,
                                          'Storage/PhysicalVolume/VolumeName')
                        if pv_name in names:
                            out.append('%s/%s' % (host, vname))
        return sorted(set(out))

    def visible_on(self, udid):
        """``<host>/<vios>`` of every VIOS that has the LUN's hdisk."""
        return self._scan(udid, 'visible')

    def mapped_on(self, udid):
        """``<host>/<vios>`` of every VIOS that maps the LUN's hdisk."""
        return self._scan(udid, 'mapped')


def _size(size_gb):
    try:
        size = int(size_gb)
    except (TypeError, ValueError):
        raise SANError(400, 'size_gb must be an integer')
    if size < 1 or size != size_gb:
        raise SANError(400, 'size_gb must be a positive integer')
    return size


def _initiators(initiators):
    if not isinstance(initiators, (list, tuple)) or not all(
            isinstance(i, str) and i for i in initiators):
        raise SANError(400, 'initiators must be a list of WWPNs or IQNs')
    return [i if i.startswith('iqn.') else normalize_wwpn(i)
            for i in initiators]


def join(root, sim):
    """The SAN of a directory (created or loaded), with ``sim`` a member.

    :param root: the SAN directory.
    :param sim: the Simulator joining it.
    """
    key = os.path.realpath(root)
    with _SANS_LOCK:
        san = _SANS.get(key)
        if san is None:
            san = _SANS[key] = SAN(key)
        san.users += 1
    san.add_member(sim)
    return san


def leave(san, sim):
    """A member Simulator closes; the last one out forgets the SAN.

    :param san: the :class:`SAN`.
    :param sim: the Simulator.
    """
    with _SANS_LOCK:
        san.users -= 1
        with san.lock:
            san._members.discard(sim)
        if san.users <= 0 and _SANS.get(san.root) is san:
            del _SANS[san.root]


# Admin API --------------------------------------------------------------
def admin_request(sim, req, parts):
    """``admin`` hook: the ``/sim/san`` routes (None for other paths).

    :param sim: the Simulator.
    :param req: the request.
    :param parts: path segments after ``/sim``.
    """
    if parts[:1] != ['san']:
        return None
    san = sim.san
    try:
        return _route(san, req, parts[1:])
    except SANError as exc:
        raise registry.SimError(exc.status, exc.message)
    except (ValueError, TypeError, AttributeError) as exc:
        raise registry.SimError(400, 'Bad request: %s' % exc)


def _route(san, req, rest):
    method = req.method
    if not rest:
        _only(method, 'GET')
        return http.json_response({'fc_targets': list(san.fc_targets),
                                   'iscsi_portals': list(san.iscsi_portals)})
    if rest[0] != 'luns' or len(rest) > 3:
        raise SANError(404, 'Unknown SAN path /%s' % '/'.join(rest))
    if len(rest) == 1:
        if method == 'GET':
            return http.json_response(
                {'luns': [san.doc(lun) for lun in san.luns()]})
        _only(method, 'POST')
        body = _body(req)
        lun = san.create_lun(body.get('name'), body.get('size_gb'))
        return http.json_response(san.doc(lun), 201)
    name = rest[1]
    if len(rest) == 2:
        if method == 'GET':
            return http.json_response(san.doc(san.lun(name)))
        _only(method, 'DELETE')
        lun = san.lun(name)
        mapped = san.mapped_on(lun['udid'])
        if mapped:
            raise SANError(409, 'LUN %s is mapped on %s'
                           % (name, ', '.join(mapped)))
        san.delete(name)
        return http.Response(204)
    if rest[2] == 'size':
        _only(method, 'PUT')
        lun = san.resize(name, _body(req).get('size_gb'))
        return http.json_response(san.doc(lun))
    if rest[2] == 'export':
        body = _body(req)
        if method == 'PUT':
            lun = san.export(name, body.get('initiators', []),
                             body.get('chap'))
        else:
            _only(method, 'DELETE')
            lun = san.unexport(name, body.get('initiators', []))
        return http.json_response(san.doc(lun))
    raise SANError(404, 'Unknown SAN path /%s' % '/'.join(rest))


def _only(method, allowed):
    if method != allowed:
        raise SANError(405, '%s only' % allowed)


def _body(req):
    body = req.json()
    if not isinstance(body, dict):
        raise SANError(400, 'The body must be a JSON object')
    return body


# Client -------------------------------------------------------------------
class SANClient(object):
    """Client of a simulator's ``/sim/san`` API.

    :param base_url: ``http://host:port`` of a simulator on the SAN.
    :param admin_token: sent as ``X-Sim-Admin-Token`` (the simulator's
        admin API takes none today; kept for deployments that front it).
    :param session: a ``requests`` session (a new one by default).
    """

    def __init__(self, base_url, admin_token=None, session=None):
        self.base_url = base_url.rstrip('/') + '/sim/san'
        self.session = session or requests.Session()
        if admin_token:
            self.session.headers['X-Sim-Admin-Token'] = admin_token

    def _call(self, method, path='', body=None, ok=(200,)):
        resp = self.session.request(method, self.base_url + path,
                                    json=body, timeout=30)
        if resp.status_code not in ok:
            raise SANError(resp.status_code, _error_text(resp))
        return resp.json() if resp.content else None

    def info(self):
        """``GET /sim/san``: target ports and portals."""
        return self._call('GET')

    def create_lun(self, name, size_gb):
        """Create a LUN; returns its document."""
        return self._call('POST', '/luns', {'name': name,
                                            'size_gb': size_gb}, ok=(201,))

    def luns(self):
        """Every LUN's document."""
        return self._call('GET', '/luns')['luns']

    def lun(self, name):
        """One LUN's document (SANError 404 when there is none)."""
        return self._call('GET', '/luns/%s' % name)

    def resize(self, name, size_gb):
        """Grow a LUN; returns its document."""
        return self._call('PUT', '/luns/%s/size' % name,
                          {'size_gb': size_gb})

    def export(self, name, initiators, chap=None):
        """Add initiators to a LUN's masking (and set CHAP when given)."""
        return self._call('PUT', '/luns/%s/export' % name,
                          {'initiators': list(initiators), 'chap': chap})

    def unexport(self, name, initiators):
        """Remove initiators from a LUN's masking."""
        return self._call('DELETE', '/luns/%s/export' % name,
                          {'initiators': list(initiators)})

    def delete(self, name):
        """Delete a LUN (SANError 409 while a VIOS maps it)."""
        self._call('DELETE', '/luns/%s' % name, ok=(204,))


def _error_text(resp):
    """The message of a simulator error reply (Atom XML or JSON)."""
    text = resp.text or ''
    try:
        root = xu.parse(resp.content)
        for node in root.iter():
            if isinstance(node.tag, str) and xu.local(node.tag) == 'Message':
                return node.text or text
    except Exception:  # noqa: not XML, give the body as it is
        pass
    return text[:500]


def connection_info(lun_doc, connector, protocol, chap_secret=None):
    """Cinder's connection info of a LUN for a connector.

    :param lun_doc: the LUN's admin document (:meth:`SANClient.lun`).
    :param connector: nova's volume connector (``wwpns``, ``initiator``...).
    :param protocol: ``fibre_channel`` or ``iscsi``.
    :param chap_secret: the LUN's CHAP secret (iSCSI with CHAP; the
        admin API never returns it, the caller set it).
    :returns: ``{'driver_volume_type': protocol, 'data': {...}}``.
    """
    name = lun_doc['name']
    lun = lun_doc['target_lun']
    if protocol == 'fibre_channel':
        targets = list(lun_doc['target_wwpns'])
        inits = [normalize_wwpn(w) for w in (connector or {}).get(
            'wwpns') or []]
        data = {'target_discovered': False, 'target_wwn': targets,
                'target_lun': lun,
                'initiator_target_map': dict((i, list(targets))
                                             for i in inits),
                'volume_id': name, 'discard': False}
    elif protocol == 'iscsi':
        portals = list(lun_doc['target_portals'])
        iqn = lun_doc['target_iqn']
        data = {'target_discovered': False, 'target_iqn': iqn,
                'target_portal': portals[0], 'target_lun': lun,
                'target_portals': portals,
                'target_iqns': [iqn] * len(portals),
                'target_luns': [lun] * len(portals),
                'volume_id': name, 'discard': False}
        if lun_doc.get('chap_username'):
            data.update(auth_method='CHAP',
                        auth_username=lun_doc['chap_username'],
                        auth_password=chap_secret)
    else:
        raise ValueError('protocol must be fibre_channel or iscsi, not %s'
                         % protocol)
    return {'driver_volume_type': protocol, 'data': data}
