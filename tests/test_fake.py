#!/usr/bin/env python3
"""Self-test of the fake SLB endpoint and its helper scripts.

Checks the fake's signing code against tests/vectors, then runs fakes
(HTTP and TLS) and checks their answers, faults and control port with
exact expected values. The last line printed is "N passed, N failed".
"""

import base64
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
import fake_slb as fake  # noqa: E402

FAKE = os.path.join(HERE, 'fake_slb.py')
FAKECTL = os.path.join(HERE, 'fakectl.py')
WITH_FAKE = os.path.join(HERE, 'with_fake.py')
INVENTORY = os.path.join(HERE, 'inventory-test.json')
VECTORS = os.path.join(HERE, 'vectors')
DAY_MS = 86400 * 1000
USER_AGENT = 'slb-selftest/1'
STS_KEY = ('STS.testid', 'stssecret', 'tok-123')
REQUEST_ID_RE = re.compile(r'[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-'
                           r'[89AB][0-9A-F]{3}-[0-9A-F]{12}')
CERT_VIEW_FIELDS = sorted((
    'ServerCertificateId', 'ServerCertificateName', 'RegionId',
    'Fingerprint', 'CommonName', 'SubjectAlternativeNames', 'CreateTime',
    'CreateTimeStamp', 'ExpireTime', 'ExpireTimeStamp',
    'IsAliCloudCertificate', 'ResourceGroupId', 'AliCloudCertificateId',
    'AliCloudCertificateName'))
ERROR_FIELDS = ['Code', 'HostId', 'Message', 'Recommend', 'RequestId']
MSG_SIGNATURE = ('Specified signature is not matched with our calculation. '
                 'server string to sign is:')
PEM_CERT = ('-----BEGIN CERTIFICATE-----\nMIIB+/9=\n'
            '-----END CERTIFICATE-----\n')
PEM_KEY = ('-----BEGIN RSA PRIVATE KEY-----\nMIIC+/8=\n'
           '-----END RSA PRIVATE KEY-----\n')

with open(INVENTORY, encoding='utf-8') as _source:
    INVENTORY_TEXT = _source.read()
INVENTORY_DOC = json.loads(INVENTORY_TEXT)
IDS = {region: [cert['ServerCertificateId'] for cert in body['certificates']]
       for region, body in INVENTORY_DOC['regions'].items()}
HZ = IDS['cn-hangzhou']
EXPIRED_UNUSED, BOUND, DOMAIN_EXT, EXPIRED_3_DAYS = HZ[:4]


# ---------------------------------------------------------------------------
# A tiny test runner: a test is a function; its first failed check ends it.

class Failure(Exception):
    pass


def expect(actual, expected, what):
    if actual != expected:
        raise Failure('%s: expected %r, got %r' % (what, expected, actual))


def expect_true(condition, what):
    if not condition:
        raise Failure(what)


class Runner:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def run(self, name, function, *args):
        try:
            function(*args)
        except Failure as err:
            self.fail(name, str(err))
        except Exception:
            self.fail(name, traceback.format_exc().rstrip())
        else:
            self.passed += 1
            print('ok   %s' % name)

    def fail(self, name, why):
        self.failed += 1
        print('FAIL %s: %s' % (name, why))


# ---------------------------------------------------------------------------
# Signing vectors and encoding tables.

def load_vectors(name):
    with open(os.path.join(VECTORS, name), encoding='utf-8') as source:
        return json.load(source)['cases']


def check_v1_vector(case):
    string_to_sign = fake.v1_string_to_sign(case['method'], case['params'])
    expect(string_to_sign, case['string_to_sign'], 'string to sign')
    expect(fake.v1_signature(case['secret'], string_to_sign),
           case['signature'], 'signature')


def check_v3_vector(case):
    headers = case['headers']
    body = case['body'].encode('utf-8')
    expect(hashlib.sha256(body).hexdigest(),
           headers['x-acs-content-sha256'], 'payload hash')
    canonical = fake.v3_canonical_request(
        case['method'], case['query'], headers, list(headers),
        headers['x-acs-content-sha256'])
    expect(canonical, case['canonical_request'], 'canonical request')
    string_to_sign = fake.v3_string_to_sign(canonical)
    expect(string_to_sign,
           'ACS3-HMAC-SHA256\n' + case['hashed_canonical_request'],
           'string to sign')
    signature = fake.v3_signature(case['secret'], string_to_sign)
    expect(signature, case['signature'], 'signature')
    expect(fake.v3_authorization(case['access_key_id'], list(headers),
                                 signature),
           case['authorization'], 'authorization')


PERCENT_CASES = [
    ('a b', 'a%20b'), ('*', '%2A'), ('~', '~'), ('a+b', 'a%2Bb'),
    ('-_.', '-_.'), ('/=&', '%2F%3D%26'), ('é', '%C3%A9'),
    (b'\xff\x00', '%FF%00'), ('\udcff', '%FF'),
]

FORM_CASES = [
    (b'a=1&b=x+y&c=%41%zz&d', [('a', '1'), ('b', 'x y'), ('c', 'A%zz'),
                               ('d', '')]),
    (b'n=%E8%AF%81%20%2B', [('n', '证 +')]),
    (b'n=%FF&&=v', [('n', '\udcff'), ('', 'v')]),
]


def check_encoding_tables():
    for raw, encoded in PERCENT_CASES:
        expect(fake.percent_encode(raw), encoded, 'percent_encode(%r)' % raw)
    for raw, pairs in FORM_CASES:
        expect(fake.parse_form(raw), pairs, 'parse_form(%r)' % raw)
    expect(fake.to_bytes(fake.parse_form(b'n=%FF%FEz')[0][1]), b'\xff\xfez',
           'non-UTF-8 bytes survive parsing')


# ---------------------------------------------------------------------------
# Running a fake, signing and sending requests.

class RunningFake:
    def __init__(self, *options):
        self.dir = tempfile.mkdtemp(prefix='test-fake-')
        ready = os.path.join(self.dir, 'ready.json')
        self.stderr = open(os.path.join(self.dir, 'stderr'), 'w+b')
        self.process = subprocess.Popen(
            [sys.executable, FAKE, '--ready-file', ready] + list(options),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.stderr)
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                self.stderr.seek(0)
                raise RuntimeError('fake did not start: %s'
                                   % self.stderr.read().decode())
            time.sleep(0.02)
        with open(ready, encoding='utf-8') as source:
            self.info = json.load(source)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait()
        self.stderr.close()
        for name in os.listdir(self.dir):
            os.remove(os.path.join(self.dir, name))
        os.rmdir(self.dir)
        return status


def utc_timestamp(offset_s=0):
    return time.strftime(fake.TIME_FORMAT, time.gmtime(time.time()
                                                       + offset_s))


class Request:
    """A signed request ready to send, with what the signer computed."""

    def __init__(self, method, target, body, headers, signed_text):
        self.method = method
        self.target = target
        self.body = body
        self.headers = headers
        self.signed_text = signed_text  # V1 string to sign / V3 canonical


def encode_pairs(params):
    return '&'.join(fake.percent_encode(name) + '=' + fake.percent_encode(
        value) for name, value in params.items())


def v1_request(action, params=None, method='GET', key=('testid',
               'testsecret', None), nonce=None, timestamp=None, **common):
    """Sign with the fake's own V1 functions; common overrides defaults."""
    key_id, secret, token = key
    signed = {
        'Action': action, 'Version': fake.API_VERSION, 'Format': 'JSON',
        'AccessKeyId': key_id, 'SignatureMethod': 'HMAC-SHA1',
        'SignatureVersion': '1.0',
        'SignatureNonce': nonce or uuid.uuid4().hex,
        'Timestamp': timestamp or utc_timestamp(),
    }
    if token is not None:
        signed['SecurityToken'] = token
    signed.update(common)
    signed.update(params or {})
    signed = {name: value for name, value in signed.items()
              if value is not None}
    string_to_sign = fake.v1_string_to_sign(method, signed)
    signed['Signature'] = fake.v1_signature(secret, string_to_sign)
    headers = {'User-Agent': USER_AGENT}
    if method == 'GET':
        return Request(method, '/?' + encode_pairs(signed), b'', headers,
                       string_to_sign)
    headers['Content-Type'] = 'application/x-www-form-urlencoded'
    return Request(method, '/', encode_pairs(signed).encode('ascii'),
                   headers, string_to_sign)


def v3_request(info, action, query=None, form=None, method='GET',
               key=('testid', 'testsecret', None), nonce=None):
    """Sign with the fake's own V3 functions; form goes in the body."""
    key_id, secret, token = key
    query = query or {}
    body = encode_pairs(form).encode('ascii') if form else b''
    headers = {
        'host': info['endpoint'],
        'x-acs-action': action,
        'x-acs-version': fake.API_VERSION,
        'x-acs-date': utc_timestamp(),
        'x-acs-signature-nonce': nonce or uuid.uuid4().hex,
        'x-acs-content-sha256': hashlib.sha256(body).hexdigest(),
    }
    if form:
        headers['content-type'] = 'application/x-www-form-urlencoded'
    if token is not None:
        headers['x-acs-security-token'] = token
    signed = list(headers)
    canonical = fake.v3_canonical_request(method, query, headers, signed,
                                          headers['x-acs-content-sha256'])
    signature = fake.v3_signature(secret, fake.v3_string_to_sign(canonical))
    headers['authorization'] = fake.v3_authorization(key_id, signed,
                                                     signature)
    headers['user-agent'] = USER_AGENT
    target = '/?' + encode_pairs(query) if query else '/'
    return Request(method, target, body, headers, canonical)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def code(self):
        return self.json.get('Code')


def connect(info, context=None):
    if info['scheme'] == 'https':
        if context is None:
            context = ssl.create_default_context(cafile=info['ca'])
        return http.client.HTTPSConnection('127.0.0.1', info['port'],
                                           timeout=10, context=context)
    return http.client.HTTPConnection('127.0.0.1', info['port'], timeout=10)


def send(info, request, conn=None):
    own = conn is None
    conn = conn or connect(info)
    try:
        conn.request(request.method, request.target, request.body,
                     request.headers)
        answer = conn.getresponse()
        return Response(answer.status, answer.headers, answer.read())
    finally:
        if own:
            conn.close()


def describe(info, region='cn-hangzhou', **params):
    params['RegionId'] = region
    return send(info, v1_request('DescribeServerCertificates', params))


def listed(response):
    return response.json['ServerCertificates']['ServerCertificate']


def listed_ids(info, region='cn-hangzhou'):
    return [cert['ServerCertificateId'] for cert in listed(describe(info,
                                                                    region))]


def control(info, method, path, body=None):
    data = None if body is None else (body if isinstance(body, bytes)
                                      else json.dumps(body).encode())
    request = urllib.request.Request(info['ctl'] + path, data=data,
                                     method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def queue_faults(info, *faults):
    status, body = control(info, 'POST', '/faults', list(faults))
    expect(status, 200, 'POST /faults status (%s)' % body)


def reset_state(info):
    """Fresh inventory, no faults, no latency: each test starts alike."""
    expect(control(info, 'POST', '/inventory', INVENTORY_TEXT.encode())[0],
           200, 'POST /inventory')
    control(info, 'DELETE', '/faults')
    control(info, 'POST', '/latency', {'ms': 0})


def expect_error(response, status, code, message=None):
    expect(response.status, status, 'HTTP status (%s)' % response.body[:300])
    expect(response.code, code, 'error code')
    if message is not None:
        expect(response.json['Message'], message, 'error message')


def fingerprint(data):
    return ':'.join('%02x' % b for b in hashlib.sha1(data).digest())


# ---------------------------------------------------------------------------
# API behaviour.

def test_ready_file(info, process):
    expect(sorted(info), ['ca', 'ctl', 'endpoint', 'pid', 'port', 'scheme',
                          'url'], 'ready file keys')
    expect(info['endpoint'], '127.0.0.1:%d' % info['port'], 'endpoint')
    expect(info['url'], 'http://127.0.0.1:%d/' % info['port'], 'url')
    expect(info['scheme'], 'http', 'scheme')
    expect(info['ca'], None, 'ca')
    expect_true(re.fullmatch(r'http://127\.0\.0\.1:\d+', info['ctl']),
                'ctl url %r' % info['ctl'])
    expect(info['pid'], process.pid, 'pid')


def test_describe_v1(f):
    response = describe(f)
    expect(response.status, 200, 'status')
    certs = listed(response)
    expect([c['ServerCertificateId'] for c in certs], HZ, 'ids')
    first = certs[0]
    expect(sorted(first), CERT_VIEW_FIELDS, 'certificate fields')
    expect(first['ServerCertificateName'], 'expired-unused-www', 'name')
    expect(first['RegionId'], 'cn-hangzhou', 'RegionId')
    expect(first['SubjectAlternativeNames'],
           {'SubjectAlternativeName': ['www.example.com', 'example.com']},
           'SANs')
    expect(first['Fingerprint'], '3f:1c:9a:4e:07:b2:58:d1:6a:90:c3:2e:f4:'
           '11:85:7b:de:42:a6:09', 'fingerprint')
    expect(first['ExpireTimeStamp'] - first['CreateTimeStamp'],
           360 * DAY_MS, 'lifetime')
    expect(len(str(first['ExpireTimeStamp'])), 13, 'ms digits')
    expect(first['ExpireTime'], time.strftime(
        fake.TIME_FORMAT, time.gmtime(first['ExpireTimeStamp'] // 1000)),
        'ExpireTime')
    age_ms = time.time() * 1000 - first['ExpireTimeStamp']
    expect_true(abs(age_ms - 40 * DAY_MS) < 30000,
                'expired 40 days ago, off by %d ms' % (age_ms - 40 * DAY_MS))
    expect((first['IsAliCloudCertificate'], first['ResourceGroupId'],
            first['AliCloudCertificateId'], first['AliCloudCertificateName']),
           (0, 'rg-acfmtest0001', '', ''), 'other fields')
    second = certs[1]
    expect(second['Fingerprint'], fingerprint(BOUND.encode()),
           'default fingerprint')
    expect(second['SubjectAlternativeNames'],
           {'SubjectAlternativeName': ['shop.example.com']}, 'default SANs')
    expect(second['ResourceGroupId'], fake.DEFAULT_RESOURCE_GROUP,
           'default resource group')
    expect(response.headers['x-acs-request-id'], response.json['RequestId'],
           'x-acs-request-id header')


def test_describe_absolute_and_utf8(f):
    response = describe(f, 'eu-central-1')
    certs = listed(response)
    expect([c['ServerCertificateId'] for c in certs], IDS['eu-central-1'],
           'ids')
    named, absolute = certs
    expect(named['ServerCertificateName'], 'Zertifikat für Café 证书 (alt)',
           'name')
    expect_true('Zertifikat für Café 证书'.encode() in response.body,
                'UTF-8 sent raw, not as \\u escapes')
    expect(named['ExpireTimeStamp'] - named['CreateTimeStamp'],
           344 * DAY_MS, 'fractional days (354.5 - 10.5)')
    expect((absolute['CreateTimeStamp'], absolute['CreateTime'],
            absolute['ExpireTimeStamp'], absolute['ExpireTime']),
           (1672531200000, '2023-01-01T00:00:00Z', 1704067200000,
            '2024-01-01T00:00:00Z'), 'absolute times')
    expect_true(b'"ExpireTimeStamp":1704067200000,' in response.body,
                'timestamps are JSON integers')
    expect(absolute['IsAliCloudCertificate'], 1, 'IsAliCloudCertificate')


def test_describe_filter(f):
    response = describe(f, ServerCertificateId=EXPIRED_3_DAYS)
    expect([c['ServerCertificateId'] for c in listed(response)],
           [EXPIRED_3_DAYS], 'filtered ids')
    expect(listed(describe(f, ServerCertificateId='no-such-id')), [],
           'unknown id filter')


def test_describe_v3(f):
    response = send(f, v3_request(f, 'DescribeServerCertificates',
                                  {'RegionId': 'cn-hangzhou'}))
    expect(response.status, 200, 'status (%s)' % response.body[:300])
    expect([c['ServerCertificateId'] for c in listed(response)], HZ, 'ids')


def test_describe_regions(f):
    response = send(f, v1_request('DescribeRegions',
                                  {'RegionId': 'cn-hangzhou'}))
    expect(response.json['Regions'], {'Region': [
        {'RegionId': 'cn-hangzhou', 'LocalName': 'cn-hangzhou',
         'RegionEndpoint': 'slb.aliyuncs.com'},
        {'RegionId': 'eu-central-1', 'LocalName': 'eu-central-1',
         'RegionEndpoint': 'slb.aliyuncs.com'}]}, 'regions')


def test_v3_post_form_rename(f):
    request = v3_request(f, 'SetServerCertificateName',
                         {'RegionId': 'cn-hangzhou'},
                         {'ServerCertificateId': EXPIRED_3_DAYS,
                          'ServerCertificateName': 'renamed via v3'},
                         method='POST')
    response = send(f, request)
    expect(response.status, 200, 'status (%s)' % response.body[:300])
    expect(list(response.json), ['RequestId'], 'answer fields')
    renamed = listed(describe(f, ServerCertificateId=EXPIRED_3_DAYS))
    expect(renamed[0]['ServerCertificateName'], 'renamed via v3', 'name')


def test_upload_post(f):
    response = send(f, v1_request('UploadServerCertificate', {
        'RegionId': 'eu-central-1', 'ServerCertificate': PEM_CERT,
        'PrivateKey': PEM_KEY, 'ServerCertificateName': 'web-cert'},
        method='POST'))
    expect(response.status, 200, 'status (%s)' % response.body[:300])
    uploaded = response.json
    expect((uploaded['ServerCertificateName'], uploaded['RegionId'],
            uploaded['Fingerprint']),
           ('web-cert', 'eu-central-1',
            fingerprint(base64.b64decode('MIIB+/9='))), 'uploaded fields')
    expect(uploaded['ExpireTimeStamp'] - uploaded['CreateTimeStamp'],
           365 * DAY_MS, 'lifetime')
    expect(listed_ids(f, 'eu-central-1'),
           IDS['eu-central-1'] + [uploaded['ServerCertificateId']],
           'listed after upload')
    missing = send(f, v1_request('UploadServerCertificate', {
        'RegionId': 'eu-central-1', 'ServerCertificate': PEM_CERT},
        method='POST'))
    expect_error(missing, 400, 'MissingParameter', 'The input parameter '
                 '"PrivateKey" that is mandatory for processing this '
                 'request is not supplied.')


def test_wrong_secret(f):
    request = v1_request('DescribeServerCertificates',
                         {'RegionId': 'cn-hangzhou'},
                         key=('testid', 'wrongsecret', None))
    expect_error(send(f, request), 400, 'SignatureDoesNotMatch',
                 MSG_SIGNATURE + request.signed_text)
    request = v3_request(f, 'DescribeServerCertificates',
                         {'RegionId': 'cn-hangzhou'},
                         key=('testid', 'wrongsecret', None))
    expect_error(send(f, request), 400, 'SignatureDoesNotMatch',
                 MSG_SIGNATURE + request.signed_text)


def test_tampered_parameter(f):
    request = v1_request('DescribeServerCertificates',
                         {'RegionId': 'cn-hangzhou'})
    request.target = request.target.replace('Format=JSON', 'Format=json')
    response = send(f, request)
    expect_error(response, 400, 'SignatureDoesNotMatch')
    server_text = response.json['Message'][len(MSG_SIGNATURE):]
    expect(server_text, request.signed_text.replace('Format%3DJSON',
                                                    'Format%3Djson'),
           'server string to sign shows the tampered value')


def test_nonce_reuse(f):
    request = v1_request('DescribeServerCertificates',
                         {'RegionId': 'cn-hangzhou'})
    expect(send(f, request).status, 200, 'first use')
    expect_error(send(f, request), 400, 'SignatureNonceUsed',
                 'Specified signature nonce was used already.')


def test_timestamps(f):
    cases = [(utc_timestamp(-1200), 'InvalidTimeStamp.Expired'),
             (utc_timestamp(+1200), 'InvalidTimeStamp.Expired'),
             ('2024-01-01 00:00:00', 'InvalidTimeStamp.Format'),
             ('2024-13-01T00:00:00Z', 'InvalidTimeStamp.Format'),
             (utc_timestamp()[:-1], 'InvalidTimeStamp.Format')]
    for timestamp, code in cases:
        request = v1_request('DescribeServerCertificates',
                             {'RegionId': 'cn-hangzhou'},
                             timestamp=timestamp)
        expect_error(send(f, request), 400, code)
    expect(send(f, v1_request('DescribeServerCertificates',
                              {'RegionId': 'cn-hangzhou'},
                              timestamp=utc_timestamp(-600))).status,
           200, '10 minutes off is accepted')


def test_keys(f):
    request = v1_request('DescribeServerCertificates',
                         {'RegionId': 'cn-hangzhou'},
                         key=('nobody', 'testsecret', None))
    expect_error(send(f, request), 404, 'InvalidAccessKeyId.NotFound')
    expect(send(f, v1_request('DescribeServerCertificates',
                              {'RegionId': 'cn-hangzhou'},
                              key=STS_KEY)).status, 200, 'STS key V1')
    expect(send(f, v3_request(f, 'DescribeServerCertificates',
                              {'RegionId': 'cn-hangzhou'},
                              key=STS_KEY)).status, 200, 'STS key V3')
    for token in ('tok-999', None):
        request = v1_request('DescribeServerCertificates',
                             {'RegionId': 'cn-hangzhou'},
                             key=STS_KEY[:2] + (token,))
        expect_error(send(f, request), 400, 'InvalidSecurityToken.Mismatch')


def test_request_errors(f):
    cases = [
        ({'Action': 'DescribeServerCertificates', 'params': {}},
         400, 'MissingParameter', 'The input parameter "RegionId" that is '
         'mandatory for processing this request is not supplied.'),
        ({'Version': '2014-05-26'}, 400, 'InvalidVersion', None),
        ({'Format': 'XML'}, 400, 'InvalidParameter', None),
        ({'SignatureMethod': 'HMAC-SHA256'}, 400, 'InvalidParameter', None),
        ({'SignatureNonce': None}, 400, 'MissingParameter', None),
        ({'Action': 'DescribeNothing'}, 404, 'InvalidAction.NotFound', None),
        ({'params': {'RegionId': 'mars-north-1'}}, 400,
         'InvalidRegionId.NotFound', 'The specified RegionId does not '
         'exist.'),
    ]
    for change, status, code, message in cases:
        change = dict(change)
        action = change.pop('Action', 'DescribeServerCertificates')
        params = change.pop('params', {'RegionId': 'cn-hangzhou'})
        response = send(f, v1_request(action, params, **change))
        expect_error(response, status, code, message)
    unsigned = Request('GET', '/?Action=DescribeRegions&RegionId=cn-hangzhou',
                       b'', {}, '')
    expect_error(send(f, unsigned), 400, 'MissingParameter')
    request = v3_request(f, 'DescribeServerCertificates',
                         {'RegionId': 'cn-hangzhou'})
    request.body = b'RegionId=cn-hangzhou'
    expect_error(send(f, request), 400, 'InvalidParameter')


def test_error_shape(f):
    first = describe(f, 'mars-north-1')
    second = describe(f, 'mars-north-1')
    expect(sorted(first.json), ERROR_FIELDS, 'error fields')
    expect(first.json['HostId'], f['endpoint'], 'HostId')
    for response in (first, second):
        expect_true(REQUEST_ID_RE.fullmatch(response.json['RequestId']),
                    'RequestId %r' % response.json['RequestId'])
        expect(response.headers['x-acs-request-id'],
               response.json['RequestId'], 'x-acs-request-id header')
    expect_true(first.json['RequestId'] != second.json['RequestId'],
                'a fresh RequestId per answer')
    expect(first.headers['Content-Type'], 'application/json;charset=utf-8',
           'Content-Type')


def delete(f, cert_id, region='cn-hangzhou'):
    params = {'RegionId': region}
    if cert_id is not None:
        params['ServerCertificateId'] = cert_id
    return send(f, v1_request('DeleteServerCertificate', params))


def test_delete(f):
    expect_error(delete(f, BOUND), 400, 'CertificateAndPrivateKeyIsRefered',
                 'The specified certificate is bound to listeners. You '
                 'cannot delete it.')
    expect_error(delete(f, DOMAIN_EXT), 400,
                 'CertificateRelatedDomainExtensionExist')
    deleted = delete(f, EXPIRED_UNUSED)
    expect(deleted.status, 200, 'delete status (%s)' % deleted.body[:300])
    expect(list(deleted.json), ['RequestId'], 'delete answer fields')
    expect_error(delete(f, EXPIRED_UNUSED), 404,
                 'ServerCertificateId.NotFound',
                 'The specified ServerCertificateId does not exist.')
    expect_error(delete(f, EXPIRED_3_DAYS, 'eu-central-1'), 404,
                 'ServerCertificateId.NotFound')
    expect_error(delete(f, None), 400, 'MissingParameter')
    expect(listed_ids(f), HZ[1:], 'listed after delete')


def test_names_round_trip(f):
    cases = [('Zertifikat ü 证书 a+b&c=d~*/%', None),
             (b'raw-\xff\xfe-name', b'"ServerCertificateName":'
              b'"raw-\xff\xfe-name"')]
    for name, raw in cases:
        response = send(f, v1_request('SetServerCertificateName', {
            'RegionId': 'cn-hangzhou', 'ServerCertificateId': EXPIRED_3_DAYS,
            'ServerCertificateName': name}))
        expect(response.status, 200, 'rename (%s)' % response.body[:300])
        shown = describe(f, ServerCertificateId=EXPIRED_3_DAYS)
        if raw is None:
            expect(listed(shown)[0]['ServerCertificateName'], name, 'name')
        else:
            expect_true(raw in shown.body, 'raw bytes %r in %r'
                        % (raw, shown.body[:400]))
    # Form decoding takes '+' for a space; the signature covers the space.
    request = v1_request('SetServerCertificateName', {
        'RegionId': 'cn-hangzhou', 'ServerCertificateId': EXPIRED_3_DAYS,
        'ServerCertificateName': 'plus sign'})
    request.target = request.target.replace('plus%20sign', 'plus+sign')
    expect(send(f, request).status, 200, 'rename with +')
    expect(listed(describe(f, ServerCertificateId=EXPIRED_3_DAYS))[0][
        'ServerCertificateName'], 'plus sign', "'+' decoded as space")


def test_keep_alive_is_fast(f):
    conn = connect(f)
    try:
        started = time.monotonic()
        for index in range(30):
            response = send(f, v1_request('DescribeServerCertificates',
                                          {'RegionId': 'cn-hangzhou'}),
                            conn)
            expect(response.status, 200, 'status')
            expect(response.headers['Connection'], 'keep-alive',
                   'Connection header')
            if index == 0:
                sock = conn.sock
            expect_true(conn.sock is sock, 'connection reused')
        elapsed = time.monotonic() - started
    finally:
        conn.close()
    # A 40 ms Nagle/delayed-ACK stall per answer would take over 1.2 s.
    expect_true(elapsed < 1.0, '30 keep-alive requests took %.2f s'
                % elapsed)


def test_concurrent_requests(f):
    statuses = []

    def one():
        statuses.append(describe(f).status)
    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    expect(statuses, [200] * 8, 'parallel statuses')


# ---------------------------------------------------------------------------
# Faults.

def test_fault_throttle(f):
    queue_faults(f, {'kind': 'throttle', 'retry_after_ms': 250},
                 {'kind': 'throttle'})
    response = describe(f)
    expect_error(response, 400, 'Throttling.User',
                 'Request was denied due to user flow control.')
    expect(response.headers['x-acs-retry-after'], '250', 'retry-after')
    response = describe(f)
    expect_error(response, 400, 'Throttling.User')
    expect(response.headers['x-acs-retry-after'], None, 'no retry-after')
    expect(describe(f).status, 200, 'faults used up')


def test_fault_action_and_count(f):
    queue_faults(f, {'kind': 'http503', 'action': 'DeleteServerCertificate',
                     'count': 2})
    expect(describe(f).status, 200, 'other action untouched')
    for _ in range(2):
        expect_error(delete(f, EXPIRED_UNUSED), 503, 'ServiceUnavailable')
    expect(delete(f, EXPIRED_UNUSED).status, 200, 'third delete')
    expect(listed_ids(f), HZ[1:], 'deleted once')


def test_fault_simple_answers(f):
    cases = [
        ({'kind': 'http500'}, 500, 'InternalError'),
        ({'kind': 'error', 'status': 403, 'code': 'Forbidden.RAM',
          'message': 'denied'}, 403, 'Forbidden.RAM'),
    ]
    for fault, status, code in cases:
        queue_faults(f, fault)
        expect_error(describe(f), status, code)
    queue_faults(f, {'kind': 'error', 'status': 403, 'code': 'X',
                     'message': 'denied'})
    expect(describe(f).json['Message'], 'denied', 'error message')
    queue_faults(f, {'kind': 'html502'})
    response = describe(f)
    expect((response.status, response.headers['Content-Type']),
           (502, 'text/html'), 'html502')
    expect_true(response.body.startswith(b'<!DOCTYPE html>'), 'HTML body')
    for fault, status in (({'kind': 'empty'}, 200),
                          ({'kind': 'empty', 'status': 503}, 503)):
        queue_faults(f, fault)
        response = describe(f)
        expect((response.status, response.body,
                response.headers['Content-Length']), (status, b'', '0'),
               'empty answer')
    queue_faults(f, {'kind': 'json_array'}, {'kind': 'wrong_types'},
                 {'kind': 'xml'})
    expect(describe(f).body, b'[1,2,3]', 'json_array')
    expect(describe(f).json, {'RequestId': 12345,
                              'ServerCertificates': 'oops'}, 'wrong_types')
    response = describe(f)
    expect((response.status, response.headers['Content-Type']),
           (200, 'text/xml'), 'xml')
    expect_true(response.body.startswith(b'<?xml version="1.0"'), 'XML')


def test_fault_reset(f):
    queue_faults(f, {'kind': 'reset'})
    try:
        delete(f, EXPIRED_UNUSED)
    except ConnectionResetError:
        pass
    else:
        raise Failure('expected a connection reset')
    expect(listed_ids(f), HZ, 'nothing deleted')
    queue_faults(f, {'kind': 'reset_after_apply'})
    try:
        delete(f, EXPIRED_UNUSED)
    except ConnectionResetError:
        pass
    else:
        raise Failure('expected a connection reset after apply')
    expect(listed_ids(f), HZ[1:], 'deleted before the reset')
    log = json.loads(control(f, 'GET', '/log')[1])
    resets = [(entry['fault'], entry['status'], entry['code'])
              for entry in log if entry['fault']]
    expect(resets[-2:], [('reset', None, None),
                         ('reset_after_apply', 200, None)], 'logged')


def test_fault_truncated(f):
    queue_faults(f, {'kind': 'truncated'})
    response = describe(f)
    expect(response.status, 200, 'status')
    expect(int(response.headers['Content-Length']), len(response.body),
           'Content-Length matches what was sent')
    expect_true(response.body.startswith(b'{"RequestId":"'), 'JSON-like')
    try:
        json.loads(response.body)
    except ValueError:
        pass
    else:
        raise Failure('truncated body parsed')
    full = len(describe(f).body)
    expect_true(len(response.body) in (full // 2, full // 2 + 1),
                'half of %d bytes, got %d' % (full, len(response.body)))


def test_fault_short(f):
    queue_faults(f, {'kind': 'short'})
    conn = connect(f)
    try:
        request = v1_request('DescribeServerCertificates',
                             {'RegionId': 'cn-hangzhou'})
        conn.request(request.method, request.target, headers=request.headers)
        answer = conn.getresponse()
        announced = int(answer.headers['Content-Length'])
        try:
            answer.read()
        except http.client.IncompleteRead as err:
            expect(len(err.partial), announced // 2, 'bytes sent')
            expect(err.expected, announced - announced // 2, 'bytes missing')
        else:
            raise Failure('expected IncompleteRead')
    finally:
        conn.close()


def test_fault_slow_and_big(f):
    queue_faults(f, {'kind': 'slow', 'delay_ms': 300})
    started = time.monotonic()
    response = describe(f)
    elapsed = time.monotonic() - started
    expect(response.status, 200, 'slow status')
    expect_true(0.3 <= elapsed < 2, 'slow took %.2f s' % elapsed)
    queue_faults(f, {'kind': 'big'})
    response = describe(f)
    expect(response.status, 200, 'big status')
    expect_true(len(response.body) > 5 * 1024 * 1024, 'size %d'
                % len(response.body))
    expect_true(REQUEST_ID_RE.fullmatch(response.json['RequestId']),
                'big answer is JSON with a RequestId')


def test_fault_rules(f):
    request = v1_request('DescribeServerCertificates',
                         {'RegionId': 'cn-hangzhou'},
                         key=('testid', 'wrongsecret', None))
    queue_faults(f, {'kind': 'http500'})
    expect_error(send(f, request), 500, 'InternalError')
    request = v1_request('DescribeServerCertificates',
                         {'RegionId': 'cn-hangzhou'})
    queue_faults(f, {'kind': 'throttle'})
    expect_error(send(f, request), 400, 'Throttling.User')
    expect_error(send(f, request), 400, 'SignatureNonceUsed')
    queue_faults(f, {'kind': 'throttle', 'count': 3})
    expect(json.loads(control(f, 'GET', '/faults')[1])[0]['remaining'], 3,
           'queued count')
    expect(control(f, 'DELETE', '/faults')[0], 200, 'DELETE /faults')
    expect(json.loads(control(f, 'GET', '/faults')[1]), [], 'queue empty')
    expect(describe(f).status, 200, 'after clearing')
    for bad in ({'kind': 'nonsense'}, {'kind': 'throttle', 'count': 0},
                {'kind': 'slow', 'delay': 5}):
        expect(control(f, 'POST', '/faults', [bad])[0], 400,
               'refused %r' % bad)


# ---------------------------------------------------------------------------
# Control port.

def test_log(f):
    control(f, 'DELETE', '/log')
    nonce = uuid.uuid4().hex
    timestamp = utc_timestamp()
    ok = v1_request('DescribeServerCertificates', {'RegionId': 'cn-hangzhou'},
                    key=STS_KEY, nonce=nonce, timestamp=timestamp)
    expect(send(f, ok).status, 200, 'signed request')
    bad = v1_request('DescribeServerCertificates', {'RegionId': 'cn-hangzhou'},
                     key=('testid', 'wrong', None), nonce=nonce + '2')
    send(f, bad)
    v3 = v3_request(f, 'DescribeRegions', {'RegionId': 'eu-central-1'},
                    nonce=nonce + '3')
    send(f, v3)
    log = json.loads(control(f, 'GET', '/log')[1])
    expect(len(log), 3, 'entries')
    expect(log[0], {
        'action': 'DescribeServerCertificates', 'method': 'GET',
        'sig': 'v1', 'nonce': nonce, 'timestamp': timestamp, 'status': 200,
        'code': None, 'fault': None, 'region': 'cn-hangzhou',
        'params': {'Action': 'DescribeServerCertificates',
                   'Version': '2014-05-15', 'Format': 'JSON',
                   'AccessKeyId': 'STS.testid',
                   'SignatureMethod': 'HMAC-SHA1', 'SignatureVersion': '1.0',
                   'SignatureNonce': nonce, 'Timestamp': timestamp,
                   'RegionId': 'cn-hangzhou'},
        'authorization_present': False, 'user_agent': USER_AGENT},
        'V1 entry')
    expect((log[2]['action'], log[2]['sig'], log[2]['status'],
            log[2]['params'], log[2]['authorization_present'],
            log[2]['region']),
           ('DescribeRegions', 'v3', 200, {'RegionId': 'eu-central-1'},
            True, 'eu-central-1'), 'V3 entry')
    lines = control(f, 'GET', '/log?format=lines')[1]
    expect(lines.decode(), 'DescribeServerCertificates GET v1 200 - %s\n'
           'DescribeServerCertificates GET v1 400 SignatureDoesNotMatch '
           '%s2\nDescribeRegions GET v3 200 - %s3\n'
           % (nonce, nonce, nonce), 'lines format')
    expect(control(f, 'DELETE', '/log'), (200, b'[]'), 'DELETE /log')
    expect(control(f, 'GET', '/log'), (200, b'[]'), 'log empty')


def test_inventory_control(f):
    doc = json.loads(control(f, 'GET', '/inventory')[1])
    expect({region: [c['ServerCertificateId'] for c in body['certificates']]
            for region, body in doc['regions'].items()}, IDS, 'ids')
    expect(doc['regions']['cn-hangzhou']['certificates'][1]['listeners'],
           ['lb-bp1o94dp5i6earr9g6d1l:443'], 'listeners kept')
    replacement = {'regions': {'ap-southeast-1': {'certificates': [
        {'ServerCertificateId': 'x-1', 'expires_in_days': 5}]}}}
    expect(control(f, 'POST', '/inventory', replacement)[0], 200, 'POST')
    cert = listed(describe(f, 'ap-southeast-1'))[0]
    expect((cert['ServerCertificateId'], cert['ServerCertificateName'],
            cert['CommonName'], cert['SubjectAlternativeNames']),
           ('x-1', 'x-1', 'www.example.com',
            {'SubjectAlternativeName': ['www.example.com']}), 'defaults')
    expect_error(describe(f), 400, 'InvalidRegionId.NotFound')
    again = json.loads(control(f, 'GET', '/inventory')[1])
    expect(control(f, 'POST', '/inventory', again)[0], 200, 're-post')
    expect(json.loads(control(f, 'GET', '/inventory')[1]), again,
           'GET output posts back unchanged')
    bad = {'regions': {'cn-hangzhou': {'certificates': [
        {'expire_in_days': 5}]}}}
    status, body = control(f, 'POST', '/inventory', bad)
    expect(status, 400, 'misspelt field refused')
    expect_true(b'expire_in_days' in body, 'error names the field')


def test_latency_control(f):
    expect(control(f, 'POST', '/latency', {'ms': 150}), (200, b'{"ms": 150}'),
           'POST /latency')
    started = time.monotonic()
    describe(f)
    elapsed = time.monotonic() - started
    control(f, 'POST', '/latency', {'ms': 0})
    expect_true(elapsed >= 0.15, 'latency applied: %.3f s' % elapsed)
    expect(control(f, 'GET', '/latency'), (200, b'{"ms": 0}'), 'GET')
    expect(control(f, 'GET', '/nothing')[0], 404, 'unknown endpoint')


# ---------------------------------------------------------------------------
# TLS.

def test_tls(f):
    expect((f['scheme'], f['url']),
           ('https', 'https://127.0.0.1:%d/' % f['port']), 'ready file')
    expect_true(os.path.isabs(f['ca']) and os.path.isfile(f['ca']),
                'ca %r' % f['ca'])
    expect(describe(f).status, 200, 'verified with the generated CA')
    untrusting = ssl.create_default_context()
    conn = connect(f, untrusting)
    try:
        conn.request('GET', '/')
        raise Failure('TLS without the CA should not verify')
    except ssl.SSLCertVerificationError:
        pass
    finally:
        conn.close()
    with open(f['ca'], encoding='ascii') as source:
        pem = source.read()
    response = send(f, v3_request(f, 'UploadServerCertificate',
                                  {'RegionId': 'cn-hangzhou'},
                                  {'ServerCertificate': pem,
                                   'PrivateKey': PEM_KEY}, method='POST'))
    expect(response.status, 200, 'upload (%s)' % response.body[:300])
    expect((response.json['CommonName'], response.json['Fingerprint']),
           ('localhost', fingerprint(ssl.PEM_cert_to_DER_cert(pem))),
           'uploaded certificate')


def test_tls_shutdown(running):
    ca_dir = os.path.dirname(running.info['ca'])
    expect(running.stop(), 0, 'exit status after SIGTERM')
    expect(os.path.exists(ca_dir), False, 'temp dir removed')


# ---------------------------------------------------------------------------
# fakectl.py and with_fake.py.

def run_script(args, env=None, timeout=30):
    done = subprocess.run([sys.executable] + args, capture_output=True,
                          env=env, timeout=timeout)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_fakectl(f):
    ctl = [FAKECTL, '--ctl', f['ctl']]
    expect(run_script(ctl + ['clear-log'])[0], 0, 'clear-log')
    describe(f)
    send(f, v1_request('DescribeServerCertificates',
                       {'RegionId': 'cn-hangzhou'},
                       key=('testid', 'wrong', None)))
    expect(run_script(ctl + ['count', 'DescribeServerCertificates']),
           (0, '2\n', ''), 'count')
    env = dict(os.environ, SLB_TEST_CTL=f['ctl'])
    expect(run_script([FAKECTL, 'count', 'DescribeServerCertificates',
                       '200'], env), (0, '1\n', ''), 'count with status')
    expect(run_script(ctl + ['faults', '[{"kind": "http500"}]'])[:2],
           (0, '{"queued": 1}\n'), 'faults')
    expect_error(describe(f), 500, 'InternalError')
    lines = run_script(ctl + ['log', '--lines'])[1].splitlines()
    expect([line.split()[3:5] for line in lines],
           [['200', '-'], ['400', 'SignatureDoesNotMatch'],
            ['500', 'InternalError']], 'log --lines')
    expect(len(json.loads(run_script(ctl + ['log'])[1])), 3, 'log')
    inventory = json.loads(run_script(ctl + ['inventory'])[1])
    expect(sorted(inventory['regions']), ['cn-hangzhou', 'eu-central-1'],
           'inventory')
    run_script(ctl + ['faults', '{"kind": "http500"}'])
    expect(run_script(ctl + ['clear-faults'])[0], 0, 'clear-faults')
    expect(describe(f).status, 200, 'faults cleared')
    status, _, err = run_script(ctl + ['faults', '[{"kind": "nope"}]'])
    expect(status, 1, 'bad fault exit status')
    expect_true('unknown fault kind' in err, 'bad fault message %r' % err)


WITH_FAKE_CHILD = r'''
import json, os, sys, urllib.request
names = sorted(n for n in os.environ if n.startswith('SLB_TEST_'))
env = {n: os.environ[n] for n in names}
with urllib.request.urlopen(env['SLB_TEST_CTL'] + '/inventory') as r:
    doc = json.load(r)
env['names'] = [c['ServerCertificateName']
                for c in doc['regions']['cn-hangzhou']['certificates']]
env['ca_exists'] = os.path.isfile(env['SLB_TEST_CA'])
print(json.dumps(env))
sys.exit(int(sys.argv[1]))
'''


def test_with_fake():
    status, out, err = run_script([WITH_FAKE, '--', sys.executable, '-c',
                                   WITH_FAKE_CHILD, '7'])
    expect(status, 7, "command's exit status (%s)" % err)
    env = json.loads(out)
    endpoint = env.pop('SLB_TEST_ENDPOINT')
    expect_true(re.fullmatch(r'127\.0\.0\.1:\d+', endpoint),
                'endpoint %r' % endpoint)
    expect_true(re.fullmatch(r'http://127\.0\.0\.1:\d+', env.pop(
        'SLB_TEST_CTL')), 'ctl url')
    expect(env, {'SLB_TEST_URL': 'http://%s/' % endpoint,
                 'SLB_TEST_SCHEME': 'http', 'SLB_TEST_CA': '',
                 'SLB_TEST_KEY_ID': 'testid',
                 'SLB_TEST_KEY_SECRET': 'testsecret',
                 'names': ['expired-www', 'valid-api', 'in-use-shop'],
                 'ca_exists': False}, 'environment')
    host, port = endpoint.split(':')
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except ConnectionRefusedError:
        pass
    else:
        raise Failure('the fake still listens after with_fake.py ended')


def test_with_fake_tls_and_inventory():
    status, out, err = run_script([WITH_FAKE, '--tls', '--inventory',
                                   INVENTORY, '--latency-ms', '1', '--',
                                   sys.executable, '-c', WITH_FAKE_CHILD,
                                   '0'])
    expect(status, 0, 'exit status (%s)' % err)
    env = json.loads(out)
    expect((env['SLB_TEST_SCHEME'], env['ca_exists'], env['names'][0]),
           ('https', True, 'expired-unused-www'), 'TLS environment')


def test_with_fake_failure():
    status, _, err = run_script([WITH_FAKE, '--inventory',
                                   '/nonexistent/inventory.json', '--',
                                   'true'])
    expect(status, 2, 'exit status')
    expect_true('did not start' in err and 'nonexistent' in err,
                'reason printed: %r' % err)


# ---------------------------------------------------------------------------

HTTP_TESTS = [
    test_describe_v1, test_describe_absolute_and_utf8, test_describe_filter,
    test_describe_v3, test_describe_regions, test_v3_post_form_rename,
    test_upload_post, test_wrong_secret, test_tampered_parameter,
    test_nonce_reuse, test_timestamps, test_keys, test_request_errors,
    test_error_shape, test_delete, test_names_round_trip,
    test_keep_alive_is_fast, test_concurrent_requests, test_fault_throttle,
    test_fault_action_and_count, test_fault_simple_answers,
    test_fault_reset, test_fault_truncated, test_fault_short,
    test_fault_slow_and_big, test_fault_rules, test_log,
    test_inventory_control, test_latency_control, test_fakectl,
]


def start_fake(runner, names, options):
    """A running fake, or None after failing the tests that needed it."""
    try:
        return RunningFake(*options)
    except RuntimeError as err:
        for name in names:
            runner.fail(name, str(err))
        return None


def run_http_test(function, info):
    reset_state(info)
    function(info)


def main():
    runner = Runner()
    for case in load_vectors('rpc-v1.json'):
        runner.run('v1 vector %s' % case['name'], check_v1_vector, case)
    for case in load_vectors('acs3-hmac-sha256.json'):
        runner.run('v3 vector %s' % case['name'], check_v3_vector, case)
    runner.run('percent-encoding and form tables', check_encoding_tables)

    options = ['--inventory', INVENTORY, '--key', 'testid:testsecret',
               '--key', ':'.join(STS_KEY)]
    names = ['ready file'] + [t.__name__ for t in HTTP_TESTS]
    running = start_fake(runner, names, options)
    if running is not None:
        try:
            runner.run('ready file', test_ready_file, running.info,
                       running.process)
            for function in HTTP_TESTS:
                runner.run(function.__name__, run_http_test, function,
                           running.info)
        finally:
            running.stop()

    running = start_fake(runner, ['test_tls', 'test_tls_shutdown'],
                         ['--tls'])
    if running is not None:
        try:
            runner.run('test_tls', test_tls, running.info)
        finally:
            runner.run('test_tls_shutdown', test_tls_shutdown, running)

    for function in (test_with_fake, test_with_fake_tls_and_inventory,
                     test_with_fake_failure):
        runner.run(function.__name__, function)
    print('%d passed, %d failed' % (runner.passed, runner.failed))
    return 1 if runner.failed else 0


if __name__ == '__main__':
    sys.exit(main())
