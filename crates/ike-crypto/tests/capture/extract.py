#!/usr/bin/env python3
"""Turn a capture.sh run into a known-answer file for strongswan_kat.rs.

Usage: extract.py OUTDIR IKE_PROPOSAL ESP_PROPOSAL > FILE.kat

The .kat file is `name = hex` lines (names may repeat; order is kept):
- `msg = DIR HEX`: every ISAKMP message of exchange.pcap in capture order,
  DIR is i2r or r2i, the RFC 3948 non-ESP marker of port 4500 removed;
- `log.LABEL = HEX`: every hex dump charon logged at level 3/4 under LABEL in
  the initiator's log (labels lower-cased, non-alphanumerics as `_`), with
  `next IV for MID N` written as `log.next_iv.N`.
Only labels the tests use are kept, so the file stays readable.
"""
import re
import struct
import sys

KEEP = {
    "shared_diffie_hellman_secret", "skeyid", "skeyid_d", "skeyid_a",
    "skeyid_e", "encryption_key_ka", "initial_iv", "hash_i", "hash_r",
    "hash_1", "hash_2", "hash_3", "hash", "dh_secret",
    "initiator_sa_seed", "responder_sa_seed",
    "encryption_initiator_key", "encryption_responder_key",
    "integrity_initiator_key", "integrity_responder_key",
    "natd_chunk", "natd_hash",
}

HEAD = re.compile(r"^\S+ \d+\[\w+\] (.+?) => (\d+) bytes @ ")
ROW = re.compile(r"^\S+ \d+\[\w+\]\s+\d+: (.*)$")


def label_key(label):
    m = re.fullmatch(r"next IV for MID (\d+)", label)
    if m:
        return "next_iv." + m.group(1)
    key = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    return key if key in KEEP else None


def log_dumps(path):
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    i = 0
    while i < len(lines):
        m = HEAD.match(lines[i])
        i += 1
        if not m:
            continue
        key, want = label_key(m.group(1)), int(m.group(2))
        data = []
        while len(data) < want and i < len(lines):
            row = ROW.match(lines[i])
            if not row:
                break
            # 16 bytes per row as "XX " groups, then two spaces and ASCII.
            hexpart = row.group(1)[: 3 * 16]
            take = min(16, want - len(data))
            data.extend(hexpart.split()[:take])
            i += 1
        if key and len(data) == want:
            yield key, "".join(data).lower()


def pcap_messages(path, initiator_addr):
    raw = open(path, "rb").read()
    magic = struct.unpack("<I", raw[:4])[0]
    endian = "<" if magic == 0xA1B2C3D4 else ">"
    link = struct.unpack(endian + "I", raw[20:24])[0]
    if link != 1:
        sys.exit(f"unsupported link type {link}")
    off = 24
    while off + 16 <= len(raw):
        _, _, incl, _ = struct.unpack(endian + "IIII", raw[off : off + 16])
        frame = raw[off + 16 : off + 16 + incl]
        off += 16 + incl
        if struct.unpack(">H", frame[12:14])[0] != 0x0800:
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 17:
            continue
        src = ".".join(str(b) for b in ip[12:16])
        udp = ip[ihl:]
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        payload = udp[8:ulen]
        if 4500 in (sport, dport):
            if payload[:4] != b"\0\0\0\0":
                continue  # ESP in UDP, not IKE
            payload = payload[4:]
        elif 500 not in (sport, dport):
            continue
        direction = "i2r" if src == initiator_addr else "r2i"
        yield direction, payload.hex()


def main():
    out, ike, esp = sys.argv[1], sys.argv[2], sys.argv[3]
    print(f"# strongSwan 5.9.8 IKEv1 main mode + quick mode (PFS), PSK auth")
    print(f"# captured by capture.sh, extracted by extract.py")
    print(f"ike_proposal = {ike}")
    print(f"esp_proposal = {esp}")
    print(f"psk = {b'hybridlab-kat-psk'.hex()}")
    print("initiator_addr = 0ac70001")
    print("responder_addr = 0ac70002")
    for direction, payload in pcap_messages(f"{out}/exchange.pcap", "10.199.0.1"):
        print(f"msg = {direction} {payload}")
    for key, value in log_dumps(f"{out}/initiator.log"):
        print(f"log.{key} = {value}")


if __name__ == "__main__":
    main()
