#!/usr/bin/env python3
"""Fake Alibaba Cloud SLB endpoint for slbscript's tests.

It checks signatures V1 and V3 with its own code, answers the certificate
calls from an in-memory inventory, and misbehaves on demand: faults are
queued through a second, plain-HTTP control port (see fakectl.py).
"""

import argparse
import base64
import calendar
import functools
import hashlib
import hmac
import io
import itertools
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_VERSION = '2014-05-15'
DEFAULT_KEY = 'testid:testsecret'
ACCOUNT_ID = '1231579085529123'
DEFAULT_RESOURCE_GROUP = 'rg-acfmdefault01'
DAY_S = 86400
DAY_MS = DAY_S * 1000
MAX_BODY = 32 * 1024 * 1024
BIG_PADDING = 5 * 1024 * 1024
JSON_TYPE = 'application/json;charset=utf-8'
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
TIMESTAMP_RE = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', re.ASCII)
REGION_RE = re.compile(r'[A-Za-z0-9_-]+', re.ASCII)
V1_REQUIRED = ('Action', 'Version', 'Format', 'AccessKeyId',
               'SignatureMethod', 'SignatureVersion', 'SignatureNonce',
               'Timestamp')
V3_REQUIRED_HEADERS = ('x-acs-action', 'x-acs-version', 'x-acs-date',
                       'x-acs-signature-nonce', 'x-acs-content-sha256')
V3_REQUIRED_SIGNED = ('host',) + V3_REQUIRED_HEADERS
V3_PREFIX = 'ACS3-HMAC-SHA256 '
UNLOGGED_PARAMS = ('Signature', 'SecurityToken')

# Faults whose answer replaces the operation; the others wrap it.
REPLACING_FAULTS = frozenset((
    'throttle', 'http500', 'http503', 'html502', 'empty', 'json_array',
    'wrong_types', 'xml', 'big', 'error'))
FAULT_KINDS = REPLACING_FAULTS | {
    'reset', 'reset_after_apply', 'truncated', 'short', 'slow'}

MSG_SIGNATURE = ('Specified signature is not matched with our calculation. '
                 'server string to sign is:')
MSG_API_NOT_FOUND = ('Specified api is not found, please check your url and '
                     'method.')
MSG_THROTTLED = 'Request was denied due to user flow control.'
MSG_INTERNAL = ('The request processing has failed due to some unknown '
                'error, exception or failure.')
MSG_UNAVAILABLE = ('The request has failed due to a temporary failure of '
                   'the server.')
MSG_CERT_NOT_FOUND = 'The specified ServerCertificateId does not exist.'
MSG_CERT_BOUND = ('The specified certificate is bound to listeners. '
                  'You cannot delete it.')
MSG_CERT_DOMAIN_EXT = ('The specified certificate is used by domain '
                       'extensions. You cannot delete it.')
HTML_502 = (b'<!DOCTYPE html>\r\n<html>\r\n<head><title>502 Bad Gateway'
            b'</title></head>\r\n<body>\r\n<h1>502 Bad Gateway</h1>\r\n'
            b'<p>The upstream server did not answer.</p>\r\n</body>\r\n'
            b'</html>\r\n')

# Without --inventory: one certificate of each kind a cleanup meets.
DEFAULT_INVENTORY = {'regions': {'cn-hangzhou': {'certificates': [
    {'ServerCertificateId': ACCOUNT_ID + '_18c3a1b2c00_1700000000_000000001',
     'ServerCertificateName': 'expired-www',
     'CommonName': 'www.example.com',
     'expires_in_days': -30, 'created_days_ago': 395},
    {'ServerCertificateId': ACCOUNT_ID + '_18c3a1b2c00_1700000000_000000002',
     'ServerCertificateName': 'valid-api',
     'CommonName': 'api.example.com',
     'expires_in_days': 200, 'created_days_ago': 165},
    {'ServerCertificateId': ACCOUNT_ID + '_18c3a1b2c00_1700000000_000000003',
     'ServerCertificateName': 'in-use-shop',
     'CommonName': 'shop.example.com',
     'expires_in_days': -5, 'created_days_ago': 360,
     'listeners': ['lb-bp1o94dp5i6earr9g6d1l:443']},
]}}}


# ---------------------------------------------------------------------------
# Signing, written from the published algorithm (SLB-API.md).

_UNRESERVED = frozenset(b'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
                        b'abcdefghijklmnopqrstuvwxyz0123456789-_.~')


def to_bytes(value):
    """Return the bytes a name or value stands for.

    Parameters parsed from a request are str with surrogate escapes for
    bytes that are not UTF-8, so surrogateescape gives back exactly the
    bytes the client sent.
    """
    if isinstance(value, bytes):
        return value
    return value.encode('utf-8', 'surrogateescape')


# Byte -> its encoding, applied by str.translate to the bytes read as
# Latin-1 (one character per byte): the same result as a loop over the
# bytes, at C speed, which keeps the fake out of the benchmark's figures.
_ENCODING = {b: chr(b) if b in _UNRESERVED else '%%%02X' % b
             for b in range(256)}


def percent_encode(value):
    return to_bytes(value).decode('latin-1').translate(_ENCODING)


def canonical_query(params):
    pairs = sorted((to_bytes(k), to_bytes(v)) for k, v in params.items())
    return '&'.join(percent_encode(k) + '=' + percent_encode(v)
                    for k, v in pairs)


def v1_string_to_sign(method, params):
    signed = {k: v for k, v in params.items() if k != 'Signature'}
    return '&'.join((method.upper(), percent_encode('/'),
                     percent_encode(canonical_query(signed))))


def v1_signature(secret, string_to_sign):
    key = to_bytes(secret) + b'&'
    digest = hmac.new(key, to_bytes(string_to_sign), hashlib.sha1).digest()
    return base64.b64encode(digest).decode('ascii')


def v3_canonical_request(method, query, headers, signed_headers,
                         hashed_payload):
    """headers maps lower-case names to values; the signed ones are used."""
    names = sorted(name.lower() for name in signed_headers)
    header_lines = ''.join('%s:%s\n' % (name, headers[name].strip())
                           for name in names)
    return '\n'.join((method.upper(), '/', canonical_query(query),
                      header_lines, ';'.join(names), hashed_payload))


def v3_string_to_sign(canonical_request):
    digest = hashlib.sha256(to_bytes(canonical_request)).hexdigest()
    return 'ACS3-HMAC-SHA256\n' + digest


def v3_signature(secret, string_to_sign):
    return hmac.new(to_bytes(secret), to_bytes(string_to_sign),
                    hashlib.sha256).hexdigest()


def v3_authorization(key_id, signed_headers, signature):
    names = ';'.join(sorted(name.lower() for name in signed_headers))
    return '%sCredential=%s,SignedHeaders=%s,Signature=%s' % (
        V3_PREFIX, key_id, names, signature)


def parse_acs3_authorization(value):
    """Split an ACS3 Authorization header; None when it is malformed."""
    if not value.startswith(V3_PREFIX):
        return None
    fields = {}
    for part in value[len(V3_PREFIX):].split(','):
        name, sep, field = part.strip().partition('=')
        if not sep:
            return None
        fields[name] = field
    if not {'Credential', 'SignedHeaders', 'Signature'} <= fields.keys():
        return None
    return fields


# ---------------------------------------------------------------------------
# Requests as received.

_PERCENT_RE = re.compile(rb'%([0-9A-Fa-f]{2})')


def _form_unquote(raw):
    raw = raw.replace(b'+', b' ')
    raw = _PERCENT_RE.sub(lambda m: bytes((int(m.group(1), 16),)), raw)
    return raw.decode('utf-8', 'surrogateescape')


def parse_form(raw):
    """Split a query string or form body into (name, value) pairs."""
    pairs = []
    for part in raw.split(b'&'):
        if part:
            name, _, value = part.partition(b'=')
            pairs.append((_form_unquote(name), _form_unquote(value)))
    return pairs


def _is_form(content_type):
    media_type = content_type.split(';')[0].strip().lower()
    return media_type == 'application/x-www-form-urlencoded'


def _header_dict(message):
    """Lower-case names; values back to the client's bytes (see to_bytes).

    http.client decodes header bytes as Latin-1, so encoding them back is
    lossless.
    """
    headers = {}
    for name, value in message.items():
        value = str(value).encode('latin-1', 'replace')
        value = value.decode('utf-8', 'surrogateescape')
        key = name.lower()
        headers[key] = headers[key] + ',' + value if key in headers else value
    return headers


class ApiRequest:
    """One API call as received: parameters, headers, body and auth."""

    def __init__(self, method, target, headers, body):
        self.method = method
        path, _, query = target.encode('latin-1').partition(b'?')
        self.path = path.decode('latin-1')
        self.headers = _header_dict(headers)
        self.body = body
        self.query = {}
        self.params = {}
        self.duplicate = None
        self._add_params(parse_form(query), self.query)
        if method == 'POST' and _is_form(self.headers.get('content-type',
                                                          '')):
            self._add_params(parse_form(body), None)
        self.nonce_reused = False
        self.auth = None
        if 'authorization' in self.headers:
            self.sig = 'v3'
            self._read_v3_fields()
        else:
            self.sig = 'v1' if 'Signature' in self.params else None
            self._read_v1_fields()

    def _add_params(self, pairs, also_into):
        for name, value in pairs:
            if name in self.params and self.duplicate is None:
                self.duplicate = name
            self.params[name] = value
            if also_into is not None:
                also_into[name] = value

    def _read_v1_fields(self):
        get = self.params.get
        self.action = get('Action')
        self.version = get('Version')
        self.timestamp = get('Timestamp')
        self.nonce = get('SignatureNonce')
        self.key_id = get('AccessKeyId')
        self.token = get('SecurityToken')

    def _read_v3_fields(self):
        get = self.headers.get
        self.auth = parse_acs3_authorization(get('authorization'))
        self.action = get('x-acs-action')
        self.version = get('x-acs-version')
        self.timestamp = get('x-acs-date')
        self.nonce = get('x-acs-signature-nonce')
        self.key_id = self.auth['Credential'] if self.auth else None
        self.token = get('x-acs-security-token')

    def logged_params(self):
        return {name: value for name, value in self.params.items()
                if name not in UNLOGGED_PARAMS}


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def missing_parameter(name):
    return ApiError(400, 'MissingParameter',
                    'The input parameter "%s" that is mandatory for '
                    'processing this request is not supplied.' % name)


def invalid_parameter(name, why='is not valid'):
    return ApiError(400, 'InvalidParameter',
                    'The specified parameter "%s" %s.' % (name, why))


class Answer:
    """An HTTP answer to send: status, body and the code for the log."""

    def __init__(self, status, body, content_type=JSON_TYPE, code=None,
                 request_id=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.code = code
        self.request_id = request_id
        self.headers = []


def new_request_id():
    return str(uuid.uuid4()).upper()


def json_bytes(obj):
    """API bodies carry names as the raw bytes the client sent."""
    text = json.dumps(obj, ensure_ascii=False, separators=(',', ':'))
    try:
        return text.encode('utf-8', 'surrogateescape')
    except UnicodeEncodeError:
        # A lone surrogate that did not come from a request (an inventory
        # file can hold one): fall back to JSON escapes.
        return json.dumps(obj, separators=(',', ':')).encode('ascii')


@functools.lru_cache(maxsize=64)
def _timestamp_seconds(timestamp):
    """Seconds since the epoch of a request time stamp.

    strptime is slow and a busy client sends the same second many times;
    a ValueError is not cached, so a bad stamp is refused every time.
    """
    return calendar.timegm(time.strptime(timestamp, TIME_FORMAT))


def iso_time(ms):
    return time.strftime(TIME_FORMAT, time.gmtime(ms // 1000))


# ---------------------------------------------------------------------------
# Inventory.

CERT_FIELDS = (
    'ServerCertificateId', 'ServerCertificateName', 'CommonName',
    'SubjectAlternativeNames', 'Fingerprint', 'expires_in_days',
    'ExpireTimeStamp', 'created_days_ago', 'CreateTimeStamp',
    'ResourceGroupId', 'IsAliCloudCertificate', 'listeners',
    'domain_extensions')
CERT_STRING_FIELDS = ('ServerCertificateId', 'ServerCertificateName',
                      'CommonName', 'Fingerprint', 'ResourceGroupId')


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fingerprint_of(data):
    return ':'.join('%02x' % b for b in hashlib.sha1(data).digest())


def _string_list(cert, field, default):
    value = cert.get(field, default)
    if not (isinstance(value, list)
            and all(isinstance(item, str) for item in value)):
        raise ValueError('%s must be a list of strings' % field)
    return list(value)


def _time_ms(cert, ms_field, days_field, direction, base_s):
    """Absolute ms from ms_field, or days from base_s; None if neither."""
    if ms_field in cert:
        value = cert[ms_field]
        if not _is_int(value):
            raise ValueError('%s must be an integer (ms)' % ms_field)
        return value
    if days_field in cert:
        days = cert[days_field]
        if not _is_number(days):
            raise ValueError('%s must be a number' % days_field)
        return (base_s + direction * round(days * DAY_S)) * 1000
    return None


def normalize_cert(cert, new_id, base_s):
    """Check one inventory certificate; fill defaults, make times absolute.

    Unknown fields are refused so that a misspelt one is not silently
    replaced by its default.
    """
    if not isinstance(cert, dict):
        raise ValueError('a certificate must be a JSON object')
    unknown = sorted(set(cert) - set(CERT_FIELDS))
    if unknown:
        raise ValueError('unknown field(s) %s; known: %s'
                         % (', '.join(unknown), ', '.join(CERT_FIELDS)))
    for field in CERT_STRING_FIELDS:
        if field in cert and not isinstance(cert[field], str):
            raise ValueError('%s must be a string' % field)
    alicloud = cert.get('IsAliCloudCertificate', 0)
    if isinstance(alicloud, bool) or alicloud not in (0, 1):
        raise ValueError('IsAliCloudCertificate must be 0 or 1')
    cert_id = cert.get('ServerCertificateId') or new_id()
    expire_ms = _time_ms(cert, 'ExpireTimeStamp', 'expires_in_days', 1,
                         base_s)
    if expire_ms is None:
        expire_ms = (base_s + 90 * DAY_S) * 1000
    create_ms = _time_ms(cert, 'CreateTimeStamp', 'created_days_ago', -1,
                         base_s)
    if create_ms is None:
        create_ms = min(base_s * 1000, expire_ms - 365 * DAY_MS)
    common_name = cert.get('CommonName', 'www.example.com')
    return {
        'ServerCertificateId': cert_id,
        'ServerCertificateName': cert.get('ServerCertificateName', cert_id),
        'CommonName': common_name,
        'SubjectAlternativeNames': _string_list(
            cert, 'SubjectAlternativeNames', [common_name]),
        'Fingerprint': (cert.get('Fingerprint')
                        or fingerprint_of(to_bytes(cert_id))),
        'CreateTimeStamp': create_ms,
        'ExpireTimeStamp': expire_ms,
        'ResourceGroupId': cert.get('ResourceGroupId',
                                    DEFAULT_RESOURCE_GROUP),
        'IsAliCloudCertificate': alicloud,
        'listeners': _string_list(cert, 'listeners', []),
        'domain_extensions': _string_list(cert, 'domain_extensions', []),
    }


def normalize_inventory(doc, new_id, base_s):
    """Return {region: [certificate, ...]} or raise ValueError."""
    if not isinstance(doc, dict) or not isinstance(doc.get('regions'), dict):
        raise ValueError('inventory: expected {"regions": {...}}')
    regions = {}
    seen = set()
    for region, body in doc['regions'].items():
        where = 'inventory: regions.%s' % region
        if not REGION_RE.fullmatch(region):
            raise ValueError('%s: not a region id' % where)
        certs = body.get('certificates', []) if isinstance(body,
                                                           dict) else None
        if not isinstance(certs, list):
            raise ValueError('%s: expected {"certificates": [...]}' % where)
        regions[region] = []
        for index, cert in enumerate(certs):
            try:
                cert = normalize_cert(cert, new_id, base_s)
            except ValueError as err:
                raise ValueError('%s.certificates[%d]: %s'
                                 % (where, index, err)) from None
            if cert['ServerCertificateId'] in seen:
                raise ValueError('%s.certificates[%d]: duplicate id %s'
                                 % (where, index,
                                    cert['ServerCertificateId']))
            seen.add(cert['ServerCertificateId'])
            regions[region].append(cert)
    return regions


def cert_view(cert, region):
    """A certificate as DescribeServerCertificates shows it."""
    return {
        'ServerCertificateId': cert['ServerCertificateId'],
        'ServerCertificateName': cert['ServerCertificateName'],
        'RegionId': region,
        'Fingerprint': cert['Fingerprint'],
        'CommonName': cert['CommonName'],
        'SubjectAlternativeNames': {
            'SubjectAlternativeName': list(cert['SubjectAlternativeNames'])},
        'CreateTime': iso_time(cert['CreateTimeStamp']),
        'CreateTimeStamp': cert['CreateTimeStamp'],
        'ExpireTime': iso_time(cert['ExpireTimeStamp']),
        'ExpireTimeStamp': cert['ExpireTimeStamp'],
        'IsAliCloudCertificate': cert['IsAliCloudCertificate'],
        'ResourceGroupId': cert['ResourceGroupId'],
        'AliCloudCertificateId': '',
        'AliCloudCertificateName': '',
    }


_PEM_CERT_RE = re.compile(r'-----BEGIN CERTIFICATE-----(.*?)'
                          r'-----END CERTIFICATE-----', re.S)
_CN_OID = b'\x06\x03\x55\x04\x03'


def pem_der(pem):
    match = _PEM_CERT_RE.search(pem)
    if match is None:
        return None
    try:
        return base64.b64decode(''.join(match.group(1).split()),
                                validate=True)
    except ValueError:
        return None


def der_common_name(der):
    """Best effort: the subject CN is the last CN attribute in the DER.

    The issuer comes before the subject and extensions rarely hold names,
    which is good enough for a fake.
    """
    at = der.rfind(_CN_OID)
    start = at + len(_CN_OID) + 2
    if at < 0 or start > len(der) or der[start - 1] & 0x80:
        return ''
    return der[start:start + der[start - 1]].decode('utf-8', 'replace')


# ---------------------------------------------------------------------------
# The fake service: state, authentication and actions.

class FakeSlb:
    """Shared state of one fake: keys, inventory, nonces, faults, log."""

    def __init__(self, keys, inventory, latency_ms=0, max_skew_s=900):
        self.lock = threading.Lock()
        self.base_s = int(time.time())
        self.keys = keys
        self.latency_ms = latency_ms
        self.max_skew_s = max_skew_s
        self.host_id = '127.0.0.1'
        self.nonces = set()
        self.faults = []
        self.log = []
        self._serial = itertools.count(1)
        self.regions = normalize_inventory(inventory, self.new_cert_id,
                                           self.base_s)
        self.actions = {
            'DescribeServerCertificates': self._describe_certificates,
            'DeleteServerCertificate': self._delete_certificate,
            'UploadServerCertificate': self._upload_certificate,
            'SetServerCertificateName': self._rename_certificate,
            'DescribeRegions': self._describe_regions,
        }

    def new_cert_id(self):
        now = time.time()
        return '%s_%x_%d_%09d' % (ACCOUNT_ID, int(now * 1000), int(now),
                                  next(self._serial))

    # -- bookkeeping shared with the HTTP layer

    def record_nonce(self, nonce):
        """Remember a nonce; True if it had been seen before."""
        if not nonce:
            return False
        with self.lock:
            seen = nonce in self.nonces
            self.nonces.add(nonce)
        return seen

    def take_fault(self, action):
        with self.lock:
            for fault in self.faults:
                if fault.get('action') in (None, action):
                    fault['remaining'] -= 1
                    if fault['remaining'] == 0:
                        self.faults.remove(fault)
                    return dict(fault)
        return None

    def log_received(self, req, fault_kind):
        entry = {
            'action': req.action, 'method': req.method, 'sig': req.sig,
            'nonce': req.nonce, 'timestamp': req.timestamp,
            'status': None, 'code': None, 'fault': fault_kind,
            'region': req.params.get('RegionId'),
            'params': req.logged_params(),
            'authorization_present': 'authorization' in req.headers,
            'user_agent': req.headers.get('user-agent'),
        }
        with self.lock:
            self.log.append(entry)
        return entry

    def log_finished(self, entry, answer):
        with self.lock:
            entry['status'] = answer.status
            entry['code'] = answer.code

    def error_answer(self, status, code, message):
        request_id = new_request_id()
        body = {
            'RequestId': request_id,
            'HostId': self.host_id,
            'Code': code,
            'Message': message,
            'Recommend': ('https://api.aliyun.com/troubleshoot?q=%s'
                          '&product=Slb&requestId=%s' % (code, request_id)),
        }
        return Answer(status, json_bytes(body), code=code,
                      request_id=request_id)

    # -- the API proper

    def answer(self, req):
        try:
            self._authenticate(req)
            with self.lock:
                region = self._region(req)
                result = self.actions[req.action](req, region)
        except ApiError as err:
            return self.error_answer(err.status, err.code, err.message)
        request_id = new_request_id()
        body = {'RequestId': request_id}
        body.update(result)
        return Answer(200, json_bytes(body), request_id=request_id)

    def _authenticate(self, req):
        if req.path != '/':
            raise ApiError(404, 'InvalidAction.NotFound', MSG_API_NOT_FOUND)
        if req.duplicate is not None:
            raise invalid_parameter(req.duplicate, 'is given more than once')
        if req.sig == 'v1':
            self._check_v1_parameters(req)
        elif req.sig == 'v3':
            self._check_v3_headers(req)
        else:
            raise missing_parameter('Signature')
        if req.version != API_VERSION:
            raise ApiError(400, 'InvalidVersion',
                           'Specified parameter Version is not valid.')
        if req.action not in self.actions:
            raise ApiError(404, 'InvalidAction.NotFound', MSG_API_NOT_FOUND)
        self._check_timestamp(req.timestamp)
        secret = self._secret_for(req)
        if req.sig == 'v1':
            self._check_v1_signature(req, secret)
        else:
            self._check_v3_signature(req, secret)
        if req.nonce_reused:
            raise ApiError(400, 'SignatureNonceUsed',
                           'Specified signature nonce was used already.')

    def _check_v1_parameters(self, req):
        for name in V1_REQUIRED:
            if not req.params.get(name):
                raise missing_parameter(name)
        if req.params['SignatureMethod'] != 'HMAC-SHA1':
            raise invalid_parameter('SignatureMethod')
        if req.params['SignatureVersion'] != '1.0':
            raise invalid_parameter('SignatureVersion')
        if req.params['Format'].upper() != 'JSON':
            raise invalid_parameter('Format')

    def _check_v3_headers(self, req):
        if req.auth is None:
            raise ApiError(400, 'IncompleteSignature',
                           'The Authorization header is not of the form '
                           '"ACS3-HMAC-SHA256 Credential=...,SignedHeaders='
                           '...,Signature=...".')
        for name in V3_REQUIRED_HEADERS:
            if not req.headers.get(name):
                raise missing_parameter(name)
        signed = req.auth['SignedHeaders'].lower().split(';')
        for name in V3_REQUIRED_SIGNED:
            if name not in signed:
                raise ApiError(400, 'IncompleteSignature',
                               'SignedHeaders must include "%s".' % name)
        for name in signed:
            if name not in req.headers:
                raise ApiError(400, 'IncompleteSignature',
                               'The signed header "%s" is not in the '
                               'request.' % name)

    def _check_timestamp(self, timestamp):
        malformed = ApiError(400, 'InvalidTimeStamp.Format',
                             'Specified time stamp or date value is not '
                             'well formatted.')
        if not TIMESTAMP_RE.fullmatch(timestamp):
            raise malformed
        try:
            when = _timestamp_seconds(timestamp)
        except ValueError:
            raise malformed from None
        if abs(time.time() - when) > self.max_skew_s:
            raise ApiError(400, 'InvalidTimeStamp.Expired',
                           'Specified time stamp or date value is '
                           'expired.')

    def _secret_for(self, req):
        key = self.keys.get(req.key_id)
        if key is None:
            raise ApiError(404, 'InvalidAccessKeyId.NotFound',
                           'Specified access key is not found.')
        secret, token = key
        if token is not None and req.token != token:
            raise ApiError(400, 'InvalidSecurityToken.Mismatch',
                           'Specified SecurityToken mismatch with the '
                           'AccessKey.')
        return secret

    def _check_v1_signature(self, req, secret):
        string_to_sign = v1_string_to_sign(req.method, req.params)
        expected = v1_signature(secret, string_to_sign)
        if not hmac.compare_digest(to_bytes(expected),
                                   to_bytes(req.params['Signature'])):
            raise ApiError(400, 'SignatureDoesNotMatch',
                           MSG_SIGNATURE + string_to_sign)

    def _check_v3_signature(self, req, secret):
        hashed_payload = req.headers['x-acs-content-sha256']
        if hashed_payload != hashlib.sha256(req.body).hexdigest():
            raise ApiError(400, 'InvalidParameter',
                           'The x-acs-content-sha256 header is not the '
                           'SHA-256 of the request body.')
        signed = req.auth['SignedHeaders'].split(';')
        canonical = v3_canonical_request(req.method, req.query, req.headers,
                                         signed, hashed_payload)
        expected = v3_signature(secret, v3_string_to_sign(canonical))
        if not hmac.compare_digest(to_bytes(expected),
                                   to_bytes(req.auth['Signature'])):
            raise ApiError(400, 'SignatureDoesNotMatch',
                           MSG_SIGNATURE + canonical)

    # -- actions; called with the lock held

    def _region(self, req):
        region = req.params.get('RegionId')
        if not region:
            raise missing_parameter('RegionId')
        if region not in self.regions:
            raise ApiError(400, 'InvalidRegionId.NotFound',
                           'The specified RegionId does not exist.')
        return region

    @staticmethod
    def _required(req, name):
        value = req.params.get(name)
        if not value:
            raise missing_parameter(name)
        return value

    def _find_cert(self, region, cert_id):
        for cert in self.regions[region]:
            if cert['ServerCertificateId'] == cert_id:
                return cert
        raise ApiError(404, 'ServerCertificateId.NotFound',
                       MSG_CERT_NOT_FOUND)

    def _describe_certificates(self, req, region):
        wanted_id = req.params.get('ServerCertificateId')
        wanted_group = req.params.get('ResourceGroupId')
        certs = [cert_view(cert, region) for cert in self.regions[region]
                 if wanted_id in (None, '', cert['ServerCertificateId'])
                 and wanted_group in (None, '', cert['ResourceGroupId'])]
        return {'ServerCertificates': {'ServerCertificate': certs}}

    def _delete_certificate(self, req, region):
        cert = self._find_cert(region,
                               self._required(req, 'ServerCertificateId'))
        if cert['listeners']:
            raise ApiError(400, 'CertificateAndPrivateKeyIsRefered',
                           MSG_CERT_BOUND)
        if cert['domain_extensions']:
            raise ApiError(400, 'CertificateRelatedDomainExtensionExist',
                           MSG_CERT_DOMAIN_EXT)
        self.regions[region].remove(cert)
        return {}

    def _upload_certificate(self, req, region):
        pem = self._required(req, 'ServerCertificate')
        self._required(req, 'PrivateKey')
        der = pem_der(pem)
        common_name = der_common_name(der) if der else ''
        cert_id = self.new_cert_id()
        now_s = int(time.time())
        cert = {
            'ServerCertificateId': cert_id,
            'ServerCertificateName': (req.params.get('ServerCertificateName')
                                      or cert_id),
            'CommonName': common_name,
            'SubjectAlternativeNames': [common_name] if common_name else [],
            'Fingerprint': fingerprint_of(der or to_bytes(pem)),
            'CreateTimeStamp': now_s * 1000,
            'ExpireTimeStamp': (now_s + 365 * DAY_S) * 1000,
            'ResourceGroupId': (req.params.get('ResourceGroupId')
                                or DEFAULT_RESOURCE_GROUP),
            'IsAliCloudCertificate': 0,
            'listeners': [],
            'domain_extensions': [],
        }
        self.regions[region].append(cert)
        return cert_view(cert, region)

    def _rename_certificate(self, req, region):
        cert = self._find_cert(region,
                               self._required(req, 'ServerCertificateId'))
        cert['ServerCertificateName'] = self._required(
            req, 'ServerCertificateName')
        return {}

    def _describe_regions(self, req, region):
        regions = [{'RegionId': name, 'LocalName': name,
                    'RegionEndpoint': 'slb.aliyuncs.com'}
                   for name in self.regions]
        return {'Regions': {'Region': regions}}

    # -- faults

    def fault_answer(self, fault, req):
        """The answer of a fault that replaces the operation."""
        kind = fault['kind']
        if kind == 'throttle':
            answer = self.error_answer(400, 'Throttling.User', MSG_THROTTLED)
            if 'retry_after_ms' in fault:
                answer.headers.append(('x-acs-retry-after',
                                       str(fault['retry_after_ms'])))
            return answer
        if kind == 'http500':
            return self.error_answer(500, 'InternalError', MSG_INTERNAL)
        if kind == 'http503':
            return self.error_answer(503, 'ServiceUnavailable',
                                     MSG_UNAVAILABLE)
        if kind == 'error':
            return self.error_answer(fault.get('status', 400),
                                     fault.get('code', 'UnknownError'),
                                     fault.get('message', MSG_INTERNAL))
        if kind == 'html502':
            return Answer(502, HTML_502, 'text/html')
        if kind == 'empty':
            return Answer(fault.get('status', 200), b'')
        if kind == 'json_array':
            return Answer(200, b'[1,2,3]')
        if kind == 'wrong_types':
            return Answer(200, json_bytes({'RequestId': 12345,
                                           'ServerCertificates': 'oops'}))
        if kind == 'xml':
            name = re.sub(r'[^A-Za-z0-9]', '', req.action or '') or 'Api'
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<%sResponse><RequestId>%s</RequestId></%sResponse>\n'
                    % (name, new_request_id(), name))
            return Answer(200, body.encode('ascii'), 'text/xml')
        assert kind == 'big', kind
        return Answer(200, json_bytes({'RequestId': new_request_id(),
                                       'Padding': 'x' * BIG_PADDING}))

    # -- control endpoints

    def inventory_doc(self):
        with self.lock:
            return {'regions': {
                region: {'certificates': [dict(cert) for cert in certs]}
                for region, certs in self.regions.items()}}

    def replace_inventory(self, doc):
        regions = normalize_inventory(doc, self.new_cert_id, self.base_s)
        with self.lock:
            self.regions = regions

    def add_faults(self, faults):
        faults = [validate_fault(fault) for fault in faults]
        with self.lock:
            self.faults.extend(faults)
            return len(self.faults)


def validate_fault(fault):
    """Return a queue entry for one posted fault or raise ValueError."""
    if not isinstance(fault, dict):
        raise ValueError('a fault must be a JSON object')
    kind = fault.get('kind')
    if kind not in FAULT_KINDS:
        raise ValueError('unknown fault kind %r; known: %s'
                         % (kind, ', '.join(sorted(FAULT_KINDS))))
    checks = {
        'action': lambda v: isinstance(v, str),
        'count': lambda v: _is_int(v) and v >= 1,
        'retry_after_ms': lambda v: _is_int(v) and v >= 0,
        'delay_ms': lambda v: _is_number(v) and v >= 0,
        'status': lambda v: _is_int(v) and 100 <= v <= 599,
        'code': lambda v: isinstance(v, str),
        'message': lambda v: isinstance(v, str),
    }
    for name, value in fault.items():
        if name != 'kind' and not (name in checks and checks[name](value)):
            raise ValueError('fault %s: bad field %s=%r'
                             % (kind, name, value))
    entry = dict(fault)
    entry['remaining'] = fault.get('count', 1)
    return entry


# ---------------------------------------------------------------------------
# HTTP.

class BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class FastHandler(BaseHTTPRequestHandler):
    """Keep-alive handler that sends each answer in a single write.

    Status line, headers and body leave in one send with TCP_NODELAY set,
    so a keep-alive client never waits on Nagle and delayed ACK.
    """

    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True
    timeout = 120

    def setup(self):
        super().setup()
        # TLS handshakes happen here, in the connection's thread, so that
        # a slow or failing client never holds up accept().
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    def read_body(self):
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get('Content-Length', '0'))
        except ValueError:
            raise BadRequest(400, 'bad Content-Length') from None
        if not 0 <= length <= MAX_BODY:
            raise BadRequest(413, 'body too large')
        body = self.rfile.read(length)
        if len(body) != length:
            raise BadRequest(400, 'body shorter than Content-Length')
        return body

    def _read_chunked(self):
        chunks = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b';')[0].strip(), 16)
            except ValueError:
                raise BadRequest(400, 'bad chunk size') from None
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                raise BadRequest(413, 'body too large')
            chunks.append(self.rfile.read(size))
            self.rfile.readline(65537)
        while self.rfile.readline(65537) not in (b'\r\n', b'\n', b''):
            pass  # trailer fields are of no interest
        return b''.join(chunks)

    def send_whole(self, status, body, content_type, headers=(),
                   send_bytes=None):
        """Send an answer; send_bytes < len(body) cuts the body short."""
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = 'Status'
        lines = ['HTTP/1.1 %d %s' % (status, reason)]
        if content_type:
            lines.append('Content-Type: ' + content_type)
        lines.append('Content-Length: %d' % len(body))
        lines.extend('%s: %s' % header for header in headers)
        lines.append('Connection: '
                     + ('close' if self.close_connection else 'keep-alive'))
        head = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
        self.wfile.write(head + body[:send_bytes])
        self.log_request(status, len(body))

    def send_json(self, status, obj):
        body = json.dumps(obj).encode('ascii')
        self.send_whole(status, body, JSON_TYPE)


class ApiHandler(FastHandler):
    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def _serve(self):
        fake = self.server.fake
        try:
            body = self.read_body()
        except BadRequest as err:
            self.close_connection = True
            self._send(fake.error_answer(err.status, 'InvalidParameter',
                                         str(err)))
            return
        req = ApiRequest(self.command, self.path, self.headers, body)
        req.nonce_reused = fake.record_nonce(req.nonce)
        fault = fake.take_fault(req.action)
        kind = fault['kind'] if fault else None
        entry = fake.log_received(req, kind)
        if fake.latency_ms:
            time.sleep(fake.latency_ms / 1000)
        if kind == 'reset':
            self._reset_connection()
            return
        if kind == 'slow':
            time.sleep(fault.get('delay_ms', 1000) / 1000)
        if kind in REPLACING_FAULTS:
            answer = fake.fault_answer(fault, req)
        else:
            answer = fake.answer(req)
        fake.log_finished(entry, answer)
        if kind == 'reset_after_apply':
            self._reset_connection()
        elif kind == 'truncated':
            answer.body = answer.body[:len(answer.body) // 2]
            self._send(answer)
        elif kind == 'short':
            self._send(answer, send_bytes=len(answer.body) // 2)
            self.close_connection = True
        else:
            self._send(answer)

    def _send(self, answer, send_bytes=None):
        headers = list(answer.headers)
        if answer.request_id:
            headers.insert(0, ('x-acs-request-id', answer.request_id))
        self.send_whole(answer.status, answer.body, answer.content_type,
                        headers, send_bytes)

    def _reset_connection(self):
        """Close with RST: linger on with a zero timeout drops the socket."""
        self.close_connection = True
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack('ii', 1, 0))
        except OSError:
            pass
        # The file objects hold references that keep the descriptor open;
        # close them first, then leave harmless stand-ins for the server's
        # own clean-up.
        self.rfile.close()
        self.wfile.close()
        sock.close()
        self.rfile = io.BytesIO()
        self.wfile = io.BytesIO()


class ControlHandler(FastHandler):
    ROUTES = {
        ('GET', '/faults'): '_get_faults',
        ('POST', '/faults'): '_post_faults',
        ('DELETE', '/faults'): '_delete_faults',
        ('GET', '/log'): '_get_log',
        ('DELETE', '/log'): '_delete_log',
        ('GET', '/inventory'): '_get_inventory',
        ('POST', '/inventory'): '_post_inventory',
        ('GET', '/latency'): '_get_latency',
        ('POST', '/latency'): '_post_latency',
    }

    def do_GET(self):
        self._route()

    def do_POST(self):
        self._route()

    def do_DELETE(self):
        self._route()

    def _route(self):
        path, _, query = self.path.partition('?')
        name = self.ROUTES.get((self.command, path))
        try:
            body = self.read_body()
            if name is None:
                raise BadRequest(404, 'no control endpoint %s %s'
                                 % (self.command, path))
            getattr(self, name)(body, query.split('&'))
        except BadRequest as err:
            self.send_json(err.status, {'error': str(err)})

    @staticmethod
    def _json(body):
        try:
            return json.loads(body)
        except ValueError as err:
            raise BadRequest(400, 'body is not JSON: %s' % err) from None

    def _get_faults(self, body, query):
        fake = self.server.fake
        with fake.lock:
            self.send_json(200, list(fake.faults))

    def _post_faults(self, body, query):
        faults = self._json(body)
        if isinstance(faults, dict):
            faults = [faults]
        if not isinstance(faults, list):
            raise BadRequest(400, 'expected a JSON array of faults')
        try:
            queued = self.server.fake.add_faults(faults)
        except ValueError as err:
            raise BadRequest(400, str(err)) from None
        self.send_json(200, {'queued': queued})

    def _delete_faults(self, body, query):
        fake = self.server.fake
        with fake.lock:
            fake.faults.clear()
        self.send_json(200, {'queued': 0})

    def _get_log(self, body, query):
        fake = self.server.fake
        with fake.lock:
            entries = json.loads(json.dumps(fake.log))
        if 'format=lines' not in query:
            self.send_json(200, entries)
            return
        text = ''.join(' '.join('-' if entry[field] is None
                                else str(entry[field])
                                for field in ('action', 'method', 'sig',
                                              'status', 'code', 'nonce'))
                       + '\n' for entry in entries)
        self.send_whole(200, text.encode('utf-8', 'surrogateescape'),
                        'text/plain;charset=utf-8')

    def _delete_log(self, body, query):
        fake = self.server.fake
        with fake.lock:
            fake.log.clear()
        self.send_json(200, [])

    def _get_inventory(self, body, query):
        self.send_json(200, self.server.fake.inventory_doc())

    def _post_inventory(self, body, query):
        try:
            self.server.fake.replace_inventory(self._json(body))
        except ValueError as err:
            raise BadRequest(400, str(err)) from None
        self._get_inventory(body, query)

    def _get_latency(self, body, query):
        self.send_json(200, {'ms': self.server.fake.latency_ms})

    def _post_latency(self, body, query):
        posted = self._json(body)
        ms = posted.get('ms') if isinstance(posted, dict) else None
        if not _is_number(ms) or ms < 0:
            raise BadRequest(400, 'expected {"ms": N} with N >= 0')
        self.server.fake.latency_ms = ms
        self._get_latency(body, query)


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, handler, fake, tls_context=None, verbose=False):
        self.fake = fake
        self.tls_context = tls_context
        self.verbose = verbose
        super().__init__(('127.0.0.1', 0), handler)

    def server_bind(self):
        # HTTPServer.server_bind looks up the host's FQDN, which can stall
        # on a machine without DNS; the fake needs none of it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        conn, addr = self.socket.accept()
        if self.tls_context is not None:
            conn = self.tls_context.wrap_socket(
                conn, server_side=True, do_handshake_on_connect=False)
        return conn, addr

    def handle_error(self, request, client_address):
        # Clients that hang up, and the faults that hang up on them, are
        # routine here; tracebacks only help when debugging the fake.
        if self.verbose:
            super().handle_error(request, client_address)


# ---------------------------------------------------------------------------
# Start-up.

def parse_keys(specs):
    keys = {}
    for spec in specs:
        parts = spec.split(':', 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise ValueError('--key wants ID:SECRET[:STS_TOKEN], got %r'
                             % spec)
        keys[parts[0]] = (parts[1], parts[2] if len(parts) == 3 else None)
    return keys


def make_certificate(directory):
    cert = os.path.join(directory, 'ca.pem')
    key = os.path.join(directory, 'key.pem')
    command = ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
               '-days', '2', '-subj', '/CN=localhost', '-addext',
               'subjectAltName=DNS:localhost,IP:127.0.0.1',
               '-keyout', key, '-out', cert]
    done = subprocess.run(command, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError('openssl req failed: %s'
                           % done.stderr.decode(errors='replace').strip())
    return cert, key


def write_ready_file(path, info):
    """Write then rename, so a reader never sees half a file."""
    path = os.path.abspath(path)
    partial = '%s.%d.tmp' % (path, os.getpid())
    with open(partial, 'w', encoding='utf-8') as out:
        json.dump(info, out)
        out.write('\n')
    os.replace(partial, path)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--ready-file', required=True,
                        help='JSON file written once both ports listen')
    parser.add_argument('--tls', action='store_true',
                        help='serve HTTPS with a fresh self-signed cert')
    parser.add_argument('--inventory', help='inventory JSON file')
    parser.add_argument('--key', action='append', metavar='ID:SECRET[:TOK]',
                        help='accepted key (repeatable); replaces the '
                        'default ' + DEFAULT_KEY)
    parser.add_argument('--latency-ms', type=float, default=0,
                        help='delay before each API answer')
    parser.add_argument('--max-skew-s', type=int, default=900,
                        help='accepted clock difference')
    parser.add_argument('--parent-pid', type=int,
                        help='exit when this process is no longer the '
                        'parent (wrappers that may be killed)')
    parser.add_argument('--verbose', action='store_true',
                        help='log requests and errors to stderr')
    return parser.parse_args(argv)


def load_inventory(path):
    with open(path, encoding='utf-8') as source:
        return json.load(source)


def serve(args, fake, stop):
    """Run both servers until stop is set; return the exit status."""
    servers, running, temp_dir = [], [], None
    try:
        tls_context, ca_path = None, None
        if args.tls:
            temp_dir = tempfile.mkdtemp(prefix='fake-slb-')
            ca_path, key_path = make_certificate(temp_dir)
            tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls_context.load_cert_chain(ca_path, key_path)
        api = FakeServer(ApiHandler, fake, tls_context, args.verbose)
        servers.append(api)
        control = FakeServer(ControlHandler, fake, None, args.verbose)
        servers.append(control)
        port = api.server_address[1]
        fake.host_id = '127.0.0.1:%d' % port
        for server in servers:
            threading.Thread(target=server.serve_forever, args=(0.1,),
                             daemon=True).start()
            running.append(server)
        scheme = 'https' if args.tls else 'http'
        write_ready_file(args.ready_file, {
            'port': port, 'scheme': scheme, 'endpoint': fake.host_id,
            'url': '%s://%s/' % (scheme, fake.host_id), 'ca': ca_path,
            'ctl': 'http://127.0.0.1:%d' % control.server_address[1],
            'pid': os.getpid()})
        while not stop.wait(0.2):
            if args.parent_pid and os.getppid() != args.parent_pid:
                break
        return 0
    except (OSError, RuntimeError, subprocess.SubprocessError) as err:
        print('fake_slb: %s' % err, file=sys.stderr)
        return 2
    finally:
        for server in running:
            server.shutdown()
        for server in servers:
            server.server_close()
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)


def main(argv=None):
    args = parse_args(argv)
    try:
        keys = parse_keys(args.key or [DEFAULT_KEY])
        inventory = (load_inventory(args.inventory) if args.inventory
                     else DEFAULT_INVENTORY)
        fake = FakeSlb(keys, inventory, args.latency_ms, args.max_skew_s)
    except (OSError, ValueError) as err:
        print('fake_slb: %s' % err, file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return serve(args, fake, stop)


if __name__ == '__main__':
    sys.exit(main())
