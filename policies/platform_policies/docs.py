"""Render the README's policy table from the definitions, so documentation cannot drift.

    cd policies && python -m platform_policies.docs     # rewrites the table in README.md
"""

from __future__ import annotations

from pathlib import Path

from . import CATEGORY_OF, POLICIES

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- policy-table:begin (generated: cd policies && python -m platform_policies.docs) -->"
END = "<!-- policy-table:end -->"


def policy_table() -> str:
    rows = [
        "| Policy | Category | Severity | Default | Frameworks | What it checks | Config keys |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in POLICIES:
        checks = p.description + (" **Fails closed** on values unknown at preview." if p.fail_closed else "")
        if p.scope == "stack":
            checks += " (stack policy)"
        for exemption in p.default_exemptions:
            checks += f" Ships exempting `{exemption['pattern']}`: {exemption['justification']}"
        keys = ", ".join(f"`{k.name}`" for k in p.config) or "—"
        rows.append(
            f"| `{p.name}` | {CATEGORY_OF[p.name]} | {p.severity} | {p.enforcement} | {', '.join(p.frameworks)} "
            f"| {checks} | {keys} |"
        )
    return "\n".join(rows)


def render(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{policy_table()}\n{END}{tail}"


if __name__ == "__main__":
    README.write_text(render(README.read_text()))
