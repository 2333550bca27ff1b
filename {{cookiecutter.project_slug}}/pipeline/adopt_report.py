"""What `make adopt` (pipeline/adopt.py) tells the team: what it did, what they should check,
and the one error that stops it before anything is written."""

from dataclasses import dataclass, field


class AdoptError(Exception):
    pass


@dataclass
class Report:
    did: list[str] = field(default_factory=list)
    check: list[str] = field(default_factory=list)

    def print(self) -> None:
        print("\n".join(f"  {line}" for line in self.did))
        if self.check:
            print("Check before committing:")
            print("\n".join(f"  - {line}" for line in self.check))
