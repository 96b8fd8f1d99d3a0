"""SRTP (RFC 3711) for the interop tests, written from the RFC: AES counter
mode (AES_CM_128/256, RFC 6188 for 256) and HMAC-SHA1 tags of 80 or 32 bits,
keyed by SDES a=crypto lines (RFC 4568). A sender independent of libsrtp2,
which callrec uses: if both read the RFC differently, the recording is noise
and the tests fail. `check_rfc3711_vectors()` proves the key derivation
against RFC 3711 appendix B.3 before any test relies on it.

Only the sending side: the recorder never sends media.
"""

import base64
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SUITES = {
    # name: (master key bytes, tag bytes)
    "AES_CM_128_HMAC_SHA1_80": (16, 10),
    "AES_CM_128_HMAC_SHA1_32": (16, 4),
    "AES_256_CM_HMAC_SHA1_80": (32, 10),
    "AES_256_CM_HMAC_SHA1_32": (32, 4),
}
SALT_BYTES = 14


def _aes_ctr(key, iv16, data):
    encryptor = Cipher(algorithms.AES(key), modes.CTR(iv16)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def derive(master_key, master_salt, label, length):
    """RFC 3711 4.3.1 with key_derivation_rate 0 (r = 0): x = label << 48 XOR salt,
    keystream of AES-CM(master key, x * 2^16)."""
    x = int.from_bytes(master_salt, "big") ^ (label << 48)
    iv = (x << 16).to_bytes(16, "big")
    return _aes_ctr(master_key, iv, bytes(length))


def check_rfc3711_vectors():
    """RFC 3711 B.3 (key derivation); raises AssertionError on a mismatch."""
    key = bytes.fromhex("E1F97A0D3E018BE0D64FA32C06DE4139")
    salt = bytes.fromhex("0EC675AD498AFEEBB6960B3AABE6")
    assert derive(key, salt, 0, 16) == bytes.fromhex("C61E7A93744F39EE10734AFE3FF7A087")
    assert derive(key, salt, 2, 14) == bytes.fromhex("30CBBC08863D8C85D49DB34A9AE1")
    assert derive(key, salt, 1, 20)[:20] == bytes.fromhex(
        "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")


def new_crypto_line(tag=1, suite="AES_CM_128_HMAC_SHA1_80", key_salt=None):
    """An a=crypto value with a fresh key: '1 AES_CM_128_HMAC_SHA1_80 inline:...'."""
    key_bytes, _ = SUITES[suite]
    key_salt = key_salt or os.urandom(key_bytes + SALT_BYTES)
    return "%d %s inline:%s" % (tag, suite, base64.b64encode(key_salt).decode())


class Sender:
    """Protects RTP packets of any SSRC with one SDES key (ROC kept per SSRC)."""

    def __init__(self, crypto_line):
        tag, suite, key_params = crypto_line.split()[:3]
        key_bytes, self.tag_bytes = SUITES[suite]
        key_salt = base64.b64decode(key_params.split(":", 1)[1].split("|")[0])
        assert len(key_salt) == key_bytes + SALT_BYTES, "key length for %s" % suite
        master_key, master_salt = key_salt[:key_bytes], key_salt[key_bytes:]
        self.session_key = derive(master_key, master_salt, 0, key_bytes)
        self.auth_key = derive(master_key, master_salt, 1, 20)
        self.session_salt = derive(master_key, master_salt, 2, SALT_BYTES)
        self.state = {}  # ssrc -> (last sequence number, rollover counter)

    def _index(self, ssrc, seq):
        last = self.state.get(ssrc)
        roc = 0 if last is None else last[1]
        if last is not None and seq < last[0] and last[0] - seq > 0x8000:
            roc += 1  # wrapped (the tests never send far out of order)
        if last is None or (roc, seq) > (last[1], last[0]):
            self.state[ssrc] = (seq, roc)
        return roc, (roc << 16) | seq

    def protect(self, packet):
        """RTP packet (12-byte header, no CSRC or extension) -> SRTP packet."""
        seq, = struct.unpack("!H", packet[2:4])
        ssrc, = struct.unpack("!I", packet[8:12])
        header, payload = packet[:12], packet[12:]
        roc, index = self._index(ssrc, seq)
        iv = (int.from_bytes(self.session_salt, "big") << 16) ^ (ssrc << 64) ^ (index << 16)
        encrypted = header + _aes_ctr(self.session_key, iv.to_bytes(16, "big"), payload)
        tag = hmac.new(self.auth_key, encrypted + struct.pack("!I", roc), hashlib.sha1).digest()
        return encrypted + tag[:self.tag_bytes]


class SrtpSocket:
    """A UDP socket whose sendto() protects each RTP packet first (for rtp.send_stream)."""

    def __init__(self, sock, sender):
        self.sock = sock
        self.sender = sender

    def sendto(self, data, addr):
        return self.sock.sendto(self.sender.protect(data), addr)

    def close(self):
        self.sock.close()
