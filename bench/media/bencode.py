"""Bencode, the encoding of rtpengine's ng control protocol: integers
i<n>e, byte strings <len>:<bytes>, lists l...e, dictionaries d...e (keys sorted
byte strings). Strings are encoded as UTF-8; decoding gives bytes, which
`text()` turns into str throughout."""


def encode(value) -> bytes:
    if isinstance(value, bool):
        value = b"yes" if value else b"no"
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, (bytes, bytearray)):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, (list, tuple)):
        return b"l" + b"".join(encode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(encode(k) + encode(v) for k, v in items) + b"e"
    raise TypeError(f"bencode: cannot encode {type(value).__name__}")


def decode(data: bytes):
    value, end = _decode(data, 0)
    if end != len(data):
        raise ValueError(f"bencode: {len(data) - end} bytes after the value")
    return value


def _decode(data: bytes, at: int):
    head = data[at:at + 1]
    if head == b"i":
        end = data.index(b"e", at)
        return int(data[at + 1:end]), end + 1
    if head == b"l":
        items, at = [], at + 1
        while data[at:at + 1] != b"e":
            item, at = _decode(data, at)
            items.append(item)
        return items, at + 1
    if head == b"d":
        items, at = {}, at + 1
        while data[at:at + 1] != b"e":
            key, at = _decode(data, at)
            items[key], at = _decode(data, at)
        return items, at + 1
    if head.isdigit():
        colon = data.index(b":", at)
        start = colon + 1
        end = start + int(data[at:colon])
        if end > len(data):
            raise ValueError("bencode: string past the end")
        return data[start:end], end
    raise ValueError(f"bencode: unexpected {head!r} at {at}")


def text(value):
    """Decoded bytes to str, recursively (keys and values)."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, list):
        return [text(v) for v in value]
    if isinstance(value, dict):
        return {text(k): text(v) for k, v in value.items()}
    return value
