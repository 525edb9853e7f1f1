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
"""Keep NovaLink credentials out of pypowervm's log records.

pypowervm logs the request headers of a response it could not parse
(``Response._unmarshal_atom``) and its ``log_helper`` dumps every field
of the failed response, request headers included, at INFO: both carry
the ``X-API-Session`` token.  :func:`install` wraps the process's log
record factory so that records of ``pypowervm`` loggers have the session
token and passwords masked before any handler sees them.
"""

import logging
import re
import threading

from oslo_utils import strutils

MASK = '***'
_SESSION = re.compile(
    r"""(X-API-Session['"]?\s*[:=]\s*['"]?)[^'"\s,}<]+""")
_SESSION_XML = re.compile(r'(<X-API-Session[^>]*>)[^<]*(</X-API-Session>)')
_LOCK = threading.Lock()
_INSTALLED = []


def redact(text):
    """``text`` with session tokens and passwords masked.

    :param text: any text.
    :returns: str.
    """
    text = _SESSION_XML.sub(r'\1%s\2' % MASK, text)
    text = _SESSION.sub(r'\1%s' % MASK, text)
    return strutils.mask_password(text, secret=MASK)


def _wrap(factory):
    def record(*args, **kwargs):
        rec = factory(*args, **kwargs)
        if rec.name.startswith('pypowervm'):
            try:
                text = rec.getMessage()
            except Exception:  # noqa: a broken record is logging's business
                return rec
            clean = redact(text)
            if clean != text:
                rec.msg, rec.args = clean, None
        return rec
    record.pvm_redacting = True
    return record


def install():
    """Mask credentials in pypowervm's log records (idempotent)."""
    with _LOCK:
        factory = logging.getLogRecordFactory()
        if getattr(factory, 'pvm_redacting', False):
            return
        logging.setLogRecordFactory(_wrap(factory))
        _INSTALLED.append(factory)
