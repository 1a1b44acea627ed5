"""The outside world of a production jaki on one machine: FCM, Dukcapil and an SMS gateway, all local stubs.

For tests, and for an operator's dress rehearsal: `python -m tests.support.local_peers peers.json` runs them
until interrupted and writes the JAKI_* variables that point a production jaki at them into peers.json.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import date

from tests.support.fake_agency import ByNik, FakeAgency
from tests.support.fcm_stub import FcmStub

OTP = re.compile(r"\b(\d{6})\b")


class LocalPeers:
    def __init__(self):
        self.fcm = FcmStub()
        # Dukcapil's lookups take the NIK in the body (jaki never puts one in a URL).
        self.residents, self.households = ByNik(), ByNik()
        self.dukcapil = FakeAgency(
            routes={"/v1/residents/query": self.residents, "/v1/residents/household/query": self.households}
        )
        self.sms = FakeAgency(routes={"/send": {"status": "queued"}})

    def __enter__(self) -> LocalPeers:
        for peer in (self.fcm, self.dukcapil, self.sms):
            peer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        for peer in (self.fcm, self.dukcapil, self.sms):
            peer.close()

    def add_resident(
        self, nik: str, full_name: str, born: date, sex: str, kk: str, kelurahan: str, address: str = ""
    ) -> None:
        """Dukcapil knows this person (and their one-person household)."""
        self.residents.payloads[nik] = {
            "full_name": full_name,
            "birth_date": born.isoformat(),
            "sex": sex,
            "kk_number": kk,
            "family_relation": "kepala_keluarga",
            "kelurahan_code": kelurahan,
            "address": address,
        }
        self.households.payloads[nik] = {
            "kk_number": kk,
            "members": [
                {
                    "nik": nik,
                    "full_name": full_name,
                    "birth_date": born.isoformat(),
                    "sex": sex,
                    "family_relation": "kepala_keluarga",
                }
            ],
        }

    def last_otp(self, phone_e164: str) -> str | None:
        """The code in the newest SMS the gateway took for this number."""
        for sent in reversed(self.sms.requests):
            body = sent.json()
            if body.get("to") == phone_e164:
                match = OTP.search(body.get("text", ""))
                return match.group(1) if match else None
        return None

    def env(self, project_id: str = "jaki-local") -> dict[str, str]:
        return {
            "JAKI_SMS_BACKEND": "http",
            "JAKI_SMS_HTTP_URL": self.sms.url + "/send",
            "JAKI_DUKCAPIL_BACKEND": "http",
            "JAKI_DUKCAPIL_URL": self.dukcapil.url,
            "JAKI_PUSH_BACKEND": "fcm",
            "JAKI_FCM_PROJECT_ID": project_id,
            "JAKI_FCM_URL": self.fcm.send_url,
            "JAKI_FCM_IID_URL": self.fcm.iid_url,
        }


def main(path: str) -> None:  # pragma: no cover - a tool for people
    import time

    with LocalPeers() as peers:
        peers.add_resident(
            "3174054107900003", "Siti Rahayu", date(1990, 7, 1), "F", "3174050102100011", "31.74.05.1002"
        )
        with open(path, "w") as fh:
            json.dump(peers.env(), fh, indent=2)
        print(f"peers running; settings in {path}. Ctrl-C stops them.", flush=True)
        shown_sms = shown_push = 0
        try:
            while True:  # what a phone would receive, as it arrives
                sms, pushes = peers.sms.requests, peers.fcm.messages
                for sent in sms[shown_sms:]:
                    print("sms", json.dumps(sent.json()), flush=True)
                for message in pushes[shown_push:]:
                    print("push", json.dumps(message), flush=True)
                shown_sms, shown_push = len(sms), len(pushes)
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1] if len(sys.argv) > 1 else "peers.json")
