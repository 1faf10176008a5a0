"""Plain-language summaries a journalist can print, rendered from findings alone.

Pure string formatting: no statistics happens here. Every number in a sentence is the ``text``
of a :class:`~models.findings.Figure` of the finding the sentence renders (claimed figures via
:func:`~models.claim_words.describe_claim`, which quotes them exactly), so a test can check each
sentence against the numbers. The subject of a sentence is the estimate, the evidence or a
claim, never the product.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from models import findings as fd  # the finding kinds; `findings` names what is rendered
from models.claim_words import describe_claim, figure_phrase
from models.claims import Claim, Source
from models.findings import (
    Figure,
    Finding,
    Summary,
    SummaryKind,
)
from models.wording import (
    Quotes,
    can_open,
    capitalise,
    count_words,
    format_computed,
    join_and,
    origin_phrase,
    possessive,
    range_exponents,
    with_unit,
)

__all__ = ["render"]

_SUMMARY_KIND: dict[type[Finding], SummaryKind] = {
    fd.CentralFigure: "figure",
    fd.BoundsOnly: "range",
    fd.OneSidedBound: "bound",
    fd.Split: "split",
    fd.TimeCourse: "course",
}


class _Words:
    """Renders findings into sentences for one request (its claims, sources, unit, subject)."""

    def __init__(self, claims: Sequence[Claim], sources: dict[str, Source], unit: str | None,
                 subject: str | None, findings: Sequence[Finding],
                 quote: Quotes | None = None) -> None:
        self.claims = claims
        #: The answer's quoted figures, shared with its findings (:class:`Quotes`).
        self.quote = Quotes() if quote is None else quote
        self.sources = sources
        self.unit = unit
        self.subject = subject
        self.any_discounted = any(isinstance(f, fd.Discounted) for f in findings)
        self.bounds_head = isinstance(findings[0], fd.OneSidedBound | fd.BoundsOnly | fd.Split)
        #: The claims a sentence has named so far (by source label or figure).
        self.named: set[int] = set()

    def label(self, i: int) -> str:
        return " ".join(self.sources[self.claims[i].source].label.split())

    def phrase(self, i: int, *, lead: bool = False) -> str:
        """A claim's phrase (:func:`~models.claim_words.figure_phrase`), the claim counted as
        named."""
        self.named.add(i)
        return figure_phrase(self.claims[i], self.label(i), self.unit, self.quote, lead=lead)

    def unit_phrase(self, members: Sequence[int], *, closed: bool = False,
                    lead: bool = False) -> str:
        """One evidence unit: a claim, or an origin's figure as its echoes reported it.

        ``closed``: the phrase is a sentence's subject, so the appositive "as reported by …"
        is closed with a comma before the verb. ``lead``: it opens the sentence (see
        :meth:`phrase`).
        """
        first = members[0]
        origin = self.claims[first].origin
        self.named.update(members)
        if len(members) == 1:
            return self.phrase(first, lead=lead)
        if origin is None:  # several figures from one source: one piece of evidence
            figures = join_and([self.claimed(i) for i in members])
            if lead and not can_open(self.label(first)):
                return f"the figures of {figures} from {self.label(first)}"
            return f"{possessive(self.label(first))} figures of {figures}"
        labels = join_and(list(dict.fromkeys(self.label(i) for i in members)))
        whose = origin_phrase(origin)
        figure = self.claimed(first)
        # "the figure of 3,000 from the ministry's statement", never "the ministry's
        # statement's figure"; and never opening a sentence with a numeral.
        plain = (lead and not can_open(whose)) or re.search(r"(?:'s|s')(?= )", whose)
        head = (f"the figure of {figure} from {whose}" if plain
                else f"{possessive(whose)} figure of {figure}")
        return f"{head}, as reported by {labels}{',' if closed else ''}"

    def claimed(self, i: int) -> str:
        """Claim i's figure as claimed, with its hedge and the unit "%"
        (:func:`~models.claim_words.figure_phrase`)."""
        return describe_claim(self.claims[i], self.quote) + ("%" if self.unit == "%" else "")

    def signed(self, number: str) -> str:
        """A computed figure as a sentence after the headline prints it: with the unit "%"
        (never a bare "59.9" beside "61.9%"), else bare (the headline named the noun)."""
        return self.with_unit(number) if self.unit == "%" else number

    def with_unit(self, number: str) -> str:
        # The noun agrees with the number as printed: an estimate of 0.9999999999999999 reads
        # "about 1 person", as one of 1.0 does.
        return with_unit(number, self.unit, one=number.rsplit(" ", 1)[-1] == "1")

    # -- headline ---------------------------------------------------------------------------

    def headline(self, f: Finding) -> tuple[str, str]:
        """(summary text, first sentence) of the headline finding."""
        of = f" of {self.subject}" if self.subject else ""
        for_ = f" for {self.subject}" if self.subject else ""
        if isinstance(f, fd.CentralFigure):
            est, level = f.figure("estimate"), f.figure("level")
            value = self.with_unit(est.text)
            if f.open:
                return self.open_headline(f, value, level.text, of)
            low, high = f.figure("low"), f.figure("high")
            ends = (f"{self.with_unit(low.text)} to "
                    f"{self.with_unit(high.text)}") if self.unit == "%" else (
                    f"{low.text} to {high.text}")
            if low.text == high.text:  # the range is narrower than the rounding
                return (f"About {value}",
                        f"The best estimate{of} is about {value}; its {level.text} range is "
                        "narrower than that rounding.")
            return (f"About {value} ({level.text} range {ends})",
                    f"The best estimate{of} is about {value}, with a {level.text} range of "
                    f"{ends}.")
        if isinstance(f, fd.OneSidedBound):
            i = f.claims[0]
            c = self.claims[i]
            words = self.with_unit(describe_claim(c, self.quote))
            floor = f.side == "at_least"
            several = sum(k.kind == c.kind for k in self.claims) > 1
            which = (f"the {'highest' if floor else 'lowest'} is " if several else "")
            # A bound on the other side can exist only as a claim judged wrong (said below).
            other = any(k.kind != c.kind for k in self.claims)
            limit = "an upper" if floor else "a lower"
            nothing = (f"No claim the evidence supports sets {limit} limit" if other
                       else f"Nothing in the evidence sets {limit} limit")
            return (capitalise(words),
                    f"No claim gives a figure{for_}, only {'' if several else 'a '}"
                    f"{'lower' if floor else 'upper'} {'bounds' if several else 'bound'}"
                    f"{' that hold' if other and several else ' that holds' if other else ''}: "
                    f"{which}{self.phrase(i)}. {nothing}, so no central figure is given."
                    f"{_doubt_words(f)}")
        if isinstance(f, fd.BoundsOnly):
            lo, hi = f.figure("lower"), f.figure("upper")
            span = (f"between {self.signed(lo.text)} and {self.with_unit(hi.text)}"
                    if lo.value != hi.value else f"at {self.with_unit(hi.text)}")
            who = join_and([self.phrase(i) for i in f.claims])
            return (capitalise(span),
                    f"No claim gives a single figure{for_}; the claims put it {span} "
                    f"({who}).{_doubt_words(f)}")
        if isinstance(f, fd.Split):
            texts, descs = [], []
            for g, members in enumerate(f.groups):
                self.named.update(members)
                low, high = f.figure(f"groups.{g}.min"), f.figure(f"groups.{g}.max")
                text = low.text if low.value == high.value else f"{low.text}\u2013{high.text}"
                kinds = {self.claims[i].kind for i in members}
                if kinds in ({"at_least"}, {"at_most"}):
                    # Bounds keep their words ("at least 10,000"), the tightest one speaking.
                    end = f.figure(f"groups.{g}.{'max' if kinds == {'at_least'} else 'min'}")
                    text = describe_claim(self.claims[_claim_index(end)], self.quote)
                texts.append(text)
                labels = join_and(list(dict.fromkeys(self.label(i) for i in members)))
                descs.append(f"{self.signed(text)} ({labels}; share "
                             f"{f.figure(f'groups.{g}.share').text})")
            n = len(f.groups)
            both = "both" if n == 2 else "all"
            texts = [*map(self.signed, texts[:-1]), self.with_unit(texts[-1])]
            summary = f"Split between {join_and(texts)}"
            return (summary,
                    f"The evidence{for_} splits into {count_words(n)} groups that cannot {both} "
                    f"be right, so no single figure is given: {join_and(descs)}.")
        if isinstance(f, fd.TimeCourse):
            return self.time_course(f, of)
        raise TypeError(f"not a headline finding: {type(f).__name__}")

    def open_headline(self, f: fd.CentralFigure, value: str, level: str, of: str
                      ) -> tuple[str, str]:
        """A central figure whose range has an end no claim sets: "About 4.1 people (90% range
        from 0.92 up; no claim sets its upper end)" and its sentence."""
        ends = self.open_ends(f, "low", "high")
        if ends is None:
            return (f"About {value} ({level} range: {_NO_LIMIT_EITHER})",
                    f"The best estimate{of} is about {value}, with a {level} range "
                    f"{_NOT_LIMITED}.")
        span, limit = ends
        return (f"About {value} ({level} range {span}; {limit})",
                f"The best estimate{of} is about {value}, with a {level} range {span} "
                f"({limit}).")

    def open_ends(self, f: Finding, a: str, b: str, *, unit_high: bool = False
                  ) -> tuple[str, str] | None:
        """The words for a range (ends ``a`` and ``b`` of ``f``) with an open end (see
        :data:`models.findings.OPEN_END_FACTOR`): ("from 0.92 up", "no claim sets its upper
        end") or ("up to 450", "no claim sets its lower end"); None when both ends are open.
        Only the printed end is a figure. It carries the unit as the closed range's ends do:
        on "%" always, else a high end when ``unit_high`` ("10,000 to 12,000 people")."""
        opened = getattr(f, "open", ())
        if a in opened and b in opened:
            return None
        if b in opened:
            low = f.figure(a)
            text = self.with_unit(low.text) if self.unit == "%" else low.text
            return f"from {text} up", "no claim sets its upper end"
        high = f.figure(b)
        text = (self.with_unit(high.text) if self.unit == "%" or unit_high
                else high.text)
        return f"up to {text}", "no claim sets its lower end"

    def time_course(self, f: fd.TimeCourse, of: str) -> tuple[str, str]:
        """A moving quantity: "About 1,500 soldiers on 18 October 2024; claimed totals 10,000
        to 12,000" and its sentences."""
        names = {fig.name for fig in f.figures}
        when = f" on {f.figure('date').text}" if "date" in names else ""
        total_words = ""
        if "total.min" in names:
            lo, hi = f.figure("total.min"), f.figure("total.max")
            span = (self.with_unit(lo.text) if lo.value == hi.value
                    else f"{lo.text} to {self.with_unit(hi.text)}")
            kinds = {self.claims[i].kind for i in f.claims if self.claims[i].horizon == "total"}
            side = {"at_most": "up to ", "at_least": "at least "}
            total_words = (side[kinds.pop()] if len(kinds) == 1 and kinds <= side.keys()
                           else "") + span
        if not f.has_level and total_words:
            # No claim speaks of the level on a date: only the total is evidence.
            summary = f"Eventual total claimed: {total_words}"
            first = (f"No claim gives the level{of} on a date; the claims speak of its eventual "
                     f"total only.")
            return summary, first + self.total_sentence(f)
        if f.level_bounds_only:
            return self.level_bounds(f, of, when, total_words)
        est = f.figure("estimate")
        value = self.with_unit(est.text)
        summary = f"About {value}{when}"
        if total_words:
            summary += f"; claimed eventual total {total_words}"
        level = f.figure("level").text
        range_words = (f", with a {level} range of {self.signed(f.figure('low').text)} to "
                       f"{self.signed(f.figure('high').text)}") if {"low", "high"} <= names else ""
        if {"low", "high"} & set(f.open):
            ends = self.open_ends(f, "low", "high")
            range_words = (f", with a {level} range {_NOT_LIMITED}" if ends is None
                           else f", with a {level} range {ends[0]} ({ends[1]})")
        trend = ""
        if "first" in names:
            first_fig = f.figure("first")
            if first_fig.text != est.text:
                way = "up" if first_fig.value < est.value else "down"
                trend = (f", {way} from about {self.signed(first_fig.text)} on "
                         f"{f.figure('first_date').text}")
        sentence = f"The best estimate{of} is about {value}{when}{range_words}{trend}."
        return summary, sentence + self.total_sentence(f)

    def level_bounds(self, f: fd.TimeCourse, of: str, when: str, total_words: str
                     ) -> tuple[str, str]:
        """Bounds are all the evidence about the level: they are quoted, no level computed."""
        names = {fig.name for fig in f.figures}
        parts = []
        if "level.lower" in names:
            lower = f.figure("level.lower")
            text = (lower.text if "level.upper" in names
                    else self.with_unit(lower.text))
            parts.append(f"at least {text}")
        if "level.upper" in names:
            upper = f.figure("level.upper")
            parts.append(f"up to {self.with_unit(upper.text)}")
        bound = " and ".join(parts)
        summary = capitalise(bound) + when
        if total_words:
            summary += f"; claimed eventual total {total_words}"
        cited = [_claim_index(f.figure(n)) for n in ("level.lower", "level.upper") if n in names]
        who = join_and([self.phrase(i) for i in cited])
        sentence = (f"No claim gives a figure for the level{of}{when}, only bounds ({who}), so "
                    "no central figure is given.")
        return summary, sentence + self.total_sentence(f)

    def total_sentence(self, f: fd.TimeCourse) -> str:
        """" Claims about the eventual total range from A's figure of … to B's …; the total's
        90% range is … to …." (empty when no claim speaks of the total)."""
        names = {fig.name for fig in f.figures}
        if "total.min" not in names:
            return ""
        totals = [i for i in f.claims if self.claims[i].horizon == "total"]
        # The figures name the claims they quote: "claims.3.value".
        first, last = (_claim_index(f.figure(n)) for n in ("total.min", "total.max"))
        if len(totals) == 1 or first == last:
            said = f" The eventual total rests on {self.phrase(first)}"
        else:
            said = (f" Claims about the eventual total range from {self.phrase(first)} "
                    f"to {self.phrase(last)}")
        level = f.figure("level").text
        if {"total_low", "total_high"} <= names:
            said += (f"; the total's {level} range is {self.signed(f.figure('total_low').text)} to "
                     f"{self.with_unit(f.figure('total_high').text)}")
        elif {"total_low", "total_high"} & set(f.open):
            ends = self.open_ends(f, "total_low", "total_high", unit_high=True)
            if ends is None:
                said += f"; no claim sets either end of the total's {level} range"
            else:
                said += f"; the total's {level} range runs {ends[0]} ({ends[1]})"
        return said + "."

    # -- the other findings -----------------------------------------------------------------

    def sentence(self, f: Finding) -> str:
        if isinstance(f, fd.RestsOn):
            return self.rests_on(f)
        if isinstance(f, fd.Discounted):
            return self.discounted(f)
        if isinstance(f, fd.EchoGroup):
            self.named.update(f.claims)
            names = list(dict.fromkeys(self.label(i) for i in f.claims))
            labels = f"from {names[0]}" if len(names) == 1 else f"({join_and(names)})"
            total = f.figure("total_share").text
            tail = ""
            if not self.bounds_head and _has(f, "estimate_without"):
                tail = (f"; without them the estimate would be about "
                        f"{self.signed(f.figure('estimate_without').text)}")
            quoted = join_and(list(dict.fromkeys(
                self.claimed(i) for i in f.claims)))
            count = capitalise(count_words(len(f.claims), spell=True))
            return (f"{count} claims {labels} repeat one origin, {origin_phrase(f.origin)} "
                    f"({quoted}), and count once, together a share of {total}{tail}.")
        if isinstance(f, fd.Conflict):
            a, b = f.claims
            more = len(f.pairs) - 1
            tail = (f", nor can {count_words(more)} other {'pair' if more == 1 else 'pairs'}"
                    if more else "")
            return (f"{capitalise(self.phrase(a, lead=True))} and {self.phrase(b)} cannot both "
                    f"be right at their sources' stated reliability{tail}, which widens the "
                    "range.")
        if isinstance(f, fd.Agreement):
            who = "The other claims" if self.any_discounted else "The claims"
            return f"{who} are consistent with one another."
        if isinstance(f, fd.HeterogeneityTest):
            p, level = f.figure("p").text, f.figure("level").text
            if f.significant:
                return ("The claims disagree more than their stated uncertainty explains "
                        f"(Cochran's Q test, {p}, below the {level} level).")
            return ("The spread of the claims is within what their stated uncertainty explains "
                    f"(Cochran's Q test, {p}; the threshold is {level}).")
        if isinstance(f, fd.BindingBound):
            way = "up" if f.side == "at_least" else "down"
            return (f"{capitalise(self.phrase(f.claims[0], lead=True))} holds the estimate "
                    f"{way}: without it the estimate would be about "
                    f"{self.signed(f.figure('estimate_without').text)}.")
        if isinstance(f, fd.ViolatedBound):
            where = "below" if f.side == "at_least" else "above"
            odds = (f"; the model puts the chance that this bound is wrong at "
                    f"{f.figure('p_wrong').text}" if _has(f, "p_wrong") else "")
            return f"The estimate lies {where} {self.phrase(f.claims[0])}{odds}."
        if isinstance(f, fd.SlackBounds):
            who = join_and([self.phrase(i, lead=k == 0) for k, i in enumerate(f.claims)])
            verb = "is" if len(f.claims) == 1 else "are"
            return f"{capitalise(who)} {verb} consistent with the estimate."
        raise TypeError(f"no wording for {type(f).__name__}")

    def rests_on(self, f: fd.RestsOn) -> str:
        units: dict[str, list[int]] = {}
        for i in f.claims:
            units.setdefault(self.claims[i].evidence_unit, []).append(i)
        only = len(units) == 1 and len(f.claims) == len(self.claims)
        if only:
            return f"The answer rests entirely on {self.unit_phrase(f.claims)}."
        # One lookup table, not a scan of every figure per unit (quadratic with many claims).
        named: dict[str, Figure] = {}
        for fig in f.figures:
            named.setdefault(fig.name, fig)
        items = []
        for members in units.values():
            share = named[f"share.{members[0]}"].text
            items.append(f"{self.unit_phrase(members)} (share {share})")
        main, rest = items[:f.mainly], items[f.mainly:]
        if _has(f, "others"):
            others = f.figure("others")
            rest.append(f"{others.text} other {'claim' if others.value == 1 else 'claims'}")
        less = f", and less on {join_and(rest)}" if rest else ""
        return f"The answer rests mainly on {join_and(main)}{less}."

    def counted(self, f: fd.RestsOn) -> fd.RestsOn:
        """``f`` with a figure ``others``: how many claims no sentence names, when some are
        left (a paragraph lists at most :data:`models.summary.MAX_LISTED` units), so that the
        sentence ends "… and five other claims" and no claim it rests on goes unmentioned.
        Call it after every other sentence is written."""
        # Sets: with thousands of claims, membership in the tuples made this O(n²).
        named, cited = set(self.named), set(f.claims)
        unnamed = [i for i in range(len(self.claims)) if i not in named and i not in cited]
        if not unnamed:
            return f
        n = len(unnamed)
        return replace(f, figures=(*f.figures, Figure("others", float(n), count_words(n))))

    def discounted(self, f: fd.Discounted) -> str:
        who = capitalise(self.unit_phrase(f.claims, closed=True, lead=True))
        # Several figures of one source are plural; an origin's figure and its echoes are one.
        many = len(f.claims) > 1 and self.claims[f.claims[0]].origin is None
        is_, lies, it = ("are", "lie", "them") if many else ("is", "lies", "it")
        if _has(f, "p_wrong"):
            why = f"{is_} probably wrong (probability {f.figure('p_wrong').text})"
        else:
            why = (f"{lies} far from the others (studentized residual "
                   f"{f.figure('residual').text})")
        if self.bounds_head or not _has(f, "estimate_without"):
            return f"{who} {why}."
        if f.negligible:
            return f"{who} {why}; leaving {it} out barely moves the estimate."
        return (f"{who} {why}; without {it} the estimate would be about "
                f"{self.signed(f.figure('estimate_without').text)}.")


#: A range both of whose ends no claim sets (:data:`models.findings.OPEN_END_FACTOR`).
_NO_LIMIT_EITHER = "no claim sets either end"
_NOT_LIMITED = "whose ends no claim sets"


def _even_range(f: Finding) -> Finding:
    """A headline whose computed ranges show the same decimals at both ends (see
    :func:`models.wording.range_exponents`); any other finding as it is."""
    if not isinstance(f, fd.CentralFigure | fd.TimeCourse):
        return f
    names = {fig.name for fig in f.figures}
    even: dict[str, Figure] = {}
    for a, b in (("low", "high"), ("total_low", "total_high")):
        if a not in names or b not in names:
            continue
        low, high = f.figure(a), f.figure(b)
        if low.exponent is None or high.exponent is None:
            continue
        e_low, e_high = range_exponents(low.exponent, high.exponent, low.text, high.text)
        if (e_low, e_high) != (low.exponent, high.exponent):
            even[a] = replace(low, text=format_computed(low.value, e_low), exponent=e_low)
            even[b] = replace(high, text=format_computed(high.value, e_high), exponent=e_high)
    if not even:
        return f
    return replace(f, figures=tuple(even.get(fig.name, fig) for fig in f.figures))


def _doubt_words(f: Finding) -> str:
    """" By their grades, these bounds all hold with probability 30%." when less likely than
    not (the range assumes they hold); else nothing."""
    if not _has(f, "p_hold"):
        return ""
    return (f" By their sources' grades, the bounds this rests on all hold with probability "
            f"{f.figure('p_hold').text} only.")


def _claim_index(fig: Figure) -> int:
    """The claim a quoted figure comes from (its path is "claims.<i>.<field>")."""
    return int((fig.path or "claims.0").split(".")[1])


def _has(f: Finding, name: str) -> bool:
    return any(fig.name == name for fig in f.figures)


def render(
    findings: Sequence[Finding],
    claims: Sequence[Claim],
    sources: dict[str, Source],
    *,
    unit: str | None = None,
    subject: str | None = None,
    quotes: Quotes | None = None,
) -> tuple[tuple[Finding, ...], Summary, str]:
    """Sentences for ``findings`` (headline first), the summary and the paragraph.

    Parameters
    ----------
    findings : sequence of Finding
        From :func:`models.summary.derive_findings`; the first is the headline.
    claims : sequence of Claim
    sources : dict of id to Source
    unit : str or None
        The quantity's unit ("soldiers", "%"); put in the right number.
    subject : str or None
        The noun phrase the text is about (see :func:`models.wording.subject_phrase`).
    quotes : Quotes, optional
        The answer's quoted figures, shared with :func:`models.summary.derive_findings`
        (:class:`models.wording.Quotes`); a new one by default.

    Returns
    -------
    findings : tuple of Finding
        ``findings`` with their ``text`` filled in; a central figure's range ends printed with
        the same decimals (:func:`models.wording.range_exponents`), and what the answer rests
        on with a figure ``others`` counting the claims no sentence names, if any.
    summary : Summary
    explanation : str
        The findings' sentences joined, in order.
    """
    findings = [_even_range(findings[0]), *findings[1:]]
    words = _Words(claims, sources, unit, subject, findings, quotes)
    head = findings[0]
    summary_text, first = words.headline(head)
    texts = [first] + [words.sentence(f) if not isinstance(f, fd.RestsOn) else ""
                       for f in findings[1:]]
    # What the answer rests on is written last: it counts the claims no other sentence names.
    for k, f in enumerate(findings):
        if isinstance(f, fd.RestsOn):
            rests = words.counted(f)
            findings[k], texts[k] = rests, words.rests_on(rests)
    done = tuple(replace(f, text=t) for f, t in zip(findings, texts, strict=True))
    summary = Summary(_SUMMARY_KIND[type(head)], summary_text, head.figures)
    return done, summary, " ".join(texts)
