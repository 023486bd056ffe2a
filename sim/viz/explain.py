"""The explanation panel: what each mechanism does, in plain words, and the finding it comes from.

Findings are those of the literature review the model is built from (Couturier, Aubry, Jochems,
Ndjaboue & Lemay), numbered as in docs/ODD.md (KF1..KF12 in the review's order, PI its policy
implications). The text is rendered to HTML on the server (python-markdown), so the page needs no
Markdown or math library from a CDN.
"""

from __future__ import annotations

import html

READING = """
**How to read the screen.** Each dot is a professional: circles are social workers, squares
health-care staff. Colour is the stance toward the group's *dominant discourse*: blue adopts it, red
resists it, pale is undecided. A hollow dot has **withdrawn** from digital exchange. Groups (teams,
services) are the clusters; purple lines are ties between groups, green lines are ties made this step.
Muted and cut ties disappear. The grey area behind every plot is the exposure **E(t)**.
"""

# (mechanism, what it does, the finding it comes from)
MECHANISMS: tuple[tuple[str, str, str], ...] = (
    (
        "Digital exposure E(t)",
        "Sets how many messages everyone receives. The shock multiplies it for a while (a pandemic-style "
        "surge); part of the surge can stay afterwards.",
        "KF1: interest in digital professional socialization surged in 2020.",
    ),
    (
        "Three channels",
        "Messages come from colleagues along ties, from a broadcast of the dominant discourse, and from "
        "general forums; porosity is how much general-forum content leaks into professional spaces.",
        "KF10 (a dominant discourse) and the policy implications (porous boundaries between professional "
        "and general forums).",
    ),
    (
        "Finite attention, overload and withdrawal",
        "Each person can attend to only so many messages (more with digital literacy and a clear "
        "professional identity). Beyond that they are overloaded, attend to less and less, and their "
        "engagement drops: below a threshold they have withdrawn. Engagement recovers toward their trust "
        "in technology when the load eases.",
        "KF11: a lack of understanding of digital technology, hyperconnectivity and information overload "
        "can generate asociality.",
    ),
    (
        "Social judgment",
        "A message close to one's stance (inside the latitude of acceptance) pulls the stance toward it; "
        "one far away (beyond the latitude of rejection) pushes it away: resistance. In between it is "
        "ignored.",
        "KF8 and KF9: the ability to learn, reflect and resist; resistance is where asociality shows. "
        "(Social judgment theory, Sherif & Hovland; Jager & Amblard.)",
    ),
    (
        "Critical thinking by profession",
        "Critical thinking narrows how much of the broadcast (dominant) discourse a person accepts. "
        "Social workers start with more critical thinking and less trust in technology than health-care "
        "staff.",
        "KF12: social work is slightly less tech-friendly, more mistrustful and more focused on critical "
        "thinking than health care.",
    ),
    (
        "Muting",
        "Someone who keeps rejecting a colleague's messages mutes them; if both mute each other the tie is cut.",
        "KF9: resistance as a form of asociality.",
    ),
    (
        "Exclusion of dissenters",
        "A person far from their group's usual stance is a dissenter; the group drops ties to dissenters "
        "at the exclusion rate. Dissenters who lost most of their in-group ties are marginalized.",
        "KF10: within a group, asociality can marginalize people who do not buy in to a dominant discourse.",
    ),
    (
        "Rewiring",
        "Dissenters move their most disagreeing tie to a like-minded person in another group: opinion "
        "camps form across groups.",
        "KF10: this can end up polarizing opinions.",
    ),
    (
        "New ties and identity work",
        "Engaged people who are not overloaded and accept messages form new ties and gain professional "
        "identity clarity, which steadies their stance and widens their attention.",
        "KF8: identity work for oneself (clarifying one's identity) and for the profession (forging social "
        "ties); KF7: digital technology has resocialization effects.",
    ),
    (
        "Effect ledger",
        "Counts, for each person, positive effects (identity gains, ties gained) and negative ones "
        "(overload episodes, withdrawals, ties lost). Most people end with both.",
        "KF6: 39% of studies report both positive and negative effects, 25% only positive ones.",
    ),
)

PLOTS = """
**The plots.** *Stance*: the mean, and the shares of adopters (stance above 2/3) and resisters (below
1/3); click a legend entry to show the same line for one profession. *Polarization*: the Esteban-Ray
index, the bimodality coefficient (a distribution is bimodal above 5/9) and the number of major
opinion clusters. *Withdrawal*: the shares withdrawn, overloaded and marginalized, by profession.
*Effect ledger*: who has had only positive, mixed, only negative or no effects so far.
"""

TRY = """
**Things to try.** Pick the *pandemic_shock* preset and press Reset, then Play: watch overload and
withdrawal rise during the shock and whether they recover. Lower the attention capacity; raise the
porosity; widen the latitude of acceptance; switch exclusion or rewiring off and compare the
polarization plot. The same settings run from the command line: `python -m sim key=value`.
"""


def explanation_markdown() -> str:
    rows = "\n".join(f"| **{name}** | {what} | {source} |" for name, what, source in MECHANISMS)
    return (
        f"{READING.strip()}\n\n| mechanism | what it does | finding of the review |\n|---|---|---|\n"
        f"{rows}\n\n{PLOTS.strip()}\n\n{TRY.strip()}\n"
    )


def explanation_html() -> str:
    """The panel as HTML (python-markdown with tables; no scripts, no external assets)."""
    try:
        import markdown
    except ImportError:  # pragma: no cover - markdown comes with solara
        return "<pre>" + html.escape(explanation_markdown()) + "</pre>"
    return markdown.markdown(explanation_markdown(), extensions=["tables"])
