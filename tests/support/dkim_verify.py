#!/usr/bin/env python3
"""Verifies DKIM signatures with dkimpy, an implementation independent of
bulletin's, against one key record given on the command line instead of
the DNS:

    dkim_verify.py --name NAME --record VALUE FILE...

NAME is the record's name (`sel._domainkey.example.org`), VALUE its text
(`v=DKIM1; k=rsa; p=...`), both as `bulletin check` prints them. A lookup of
any other name finds nothing, so a signature naming another domain or
selector fails. Prints one JSON object per file, in order:

    {"file": ..., "verified": true|false, "error": "..."|null,
     "algorithm": "rsa-sha256", "domain": ..., "selector": ...,
     "signed_headers": ["from", ...], "lookups": ["sel._domainkey..."]}
"""
import argparse
import json
import sys

import dkim


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    wanted = args.name.rstrip(".").lower()

    for path in args.files:
        lookups = []

        def dnsfunc(name, timeout=5):
            name = name.decode() if isinstance(name, bytes) else name
            lookups.append(name)
            if name.rstrip(".").lower() == wanted:
                return args.record.encode()
            return None

        with open(path, "rb") as f:
            message = f.read()
        result = {"file": path, "verified": False, "error": None, "lookups": lookups}
        try:
            checker = dkim.DKIM(message)
            result["verified"] = bool(checker.verify(dnsfunc=dnsfunc))
            if checker.signature_fields:
                fields = checker.signature_fields
                result["algorithm"] = fields.get(b"a", b"").decode()
                result["domain"] = fields.get(b"d", b"").decode()
                result["selector"] = fields.get(b"s", b"").decode()
                signed = fields.get(b"h", b"").decode()
                result["signed_headers"] = [h.strip().lower() for h in signed.split(":") if h.strip()]
            if not result["verified"]:
                result["error"] = "signature did not verify"
        except dkim.DKIMException as e:
            result["error"] = "%s: %s" % (type(e).__name__, e)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
