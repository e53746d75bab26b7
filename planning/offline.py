"""The offline backend: a grounded semantic parser from commands to goal conditions, no model needed.

The command is first brought to plain imperatives (phrasing.py) and checked for refusals
(safety.py). Its stages ("..., then ...") are split into clauses, each matched to an intent (place,
manipulate, fetch, go, find, look, say, wait) with slots for its noun phrases (clauses.py); a finer
placement or a manner is MANIPULATE's clause (manipulation_phrases.py), a question is answered from
the scene (questions.py). Slots are grounded in the scene graph (grounding.py): ambiguous ones
become a question whose answer completes the command, unknown ones an account of what is known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from perception.scene_graph import ObjectKind, SceneGraph
from planning.clauses import OBJECTS, PLACES, SURFACES, THINGS, Clause, Slot, split_objects
from planning.corrections import corrected, correction_of, head_noun, phrase_instead, plain_correction
from planning.goals import Goal
from planning.grounding import (
    CATEGORIES,
    GENERIC,
    SOURCE_RELATIONS,
    Grounder,
    normalize,
    singular,
    strip_determiners,
)
from planning.interpretation import Interpretation, Outcome
from planning.manipulation_phrases import MANNER_START, manipulation_clause
from planning.phrasing import (
    ASK_ABOUT,
    CLAUSE_STARTS,
    COLORS,
    COLOUR_WORDS,
    NOUN_START,
    QUOTE_TOKEN,
    TIME_UNIT,
    WANT,
    is_context,
    plain_clause,
    plain_command,
    quote_spans,
    unquote,
    without_quotes,
)
from planning.questions import QUESTION, answer_question, unknown_reply
from planning.role_reading import read_by_roles
from planning.safety import invalid_reason, refusal

NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10, "few": 3, "couple": 2}
ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "last": -1, "other": 1}

POLITE = re.compile(
    r"^(?:(?:hey |ok |okay )?robot |please |kindly |could you |can you |would you |will you |i want you to |"
    r"i need you to |i'd like you to |i would like you to |go and |now |then |and |also |just )+"
)
TRAILING = re.compile(r"(?: please| for me| now| right now| quickly| thanks| thank you| as well| too)+$")
STAGE_SPLIT = re.compile(
    r"\s*(?:,\s*)?\b(?:and then|then|after that|afterwards|after which|next(?!\s+to\b)|finally)\b\s*,?\s*|[;.!?]+\s*"
)
PARTICLE = re.compile(r"(?:\s+(?:over|along|down|up|back|through|across|round|around|away|off|out|in))+$")
# A noun phrase in a clause no pattern reads, up to the next verb or joining word.
UNREAD_THING = re.compile(
    rf"\b{NOUN_START} (?:(?!(?:is|are|was|were|to|and|or|with|for|so|that|which|who|when|if|because|until|till|"
    r"then|but)\b)[a-z0-9']+ ?)+"
)
STATEMENT = re.compile(r"^(?!(?:i|we|you)\b).+\s(?:says|said|reads|read|is written|writes|shows)(?:\s.*)?$")
REDUNDANT = re.compile(r"^(?:put|place|move|bring|take|leave|set) (?:it|them) (?:there|over there)$")
PLURAL_PRONOUNS = {
    "them", "those", "these", "it all", "the lot of them", "them both", "both of them", "them all", "all of them",
    "the two of them", "both", "all",
    "the pair", "the lot",
}  # fmt: skip
PRONOUNS = {"it", "that", "this", "this one", "that one", "the same one", "it too"} | PLURAL_PRONOUNS
# A learner's "him" or "her" for a thing said just before ("the juice, take him to the table").
PERSONAL_FOR_THING = {"him", "her"}
# A quantity before a noun: "both books", "all the cups", "the two mugs", "each desk".
QUANTITY = re.compile(
    r"^(?:(?:both|all)(?: of)?(?: the| my| your| our| these| those)?|the (?P<n>two|three|four|[2-9])|"
    r"(?P<m>two|three|four|[2-9])|each|every|each of the|every one of the)\s+"
)
EVERYTHING_THERE = re.compile(
    r"^(?:everything|all|all the things|all the stuff|all of it|the things|the stuff|the lot|whatever(?: is)?|what is)"
    r"(?: that is| which is| you can see)? (?P<relation>from|on top of|on|off|in|inside) (?P<place>.+)$"
)
COUNTS = {"two": 2, "three": 3, "four": 4, **{str(n): n for n in range(2, 10)}}
DETERMINER_WORDS = frozenset({"the", "that", "this", "those", "these", "my", "your", "our", "a", "an", "any"})
WANTED_ON = re.compile(
    rf"^(?P<obj>{NOUN_START} .+?) (?:i|we) (?:need|want|would like|would love)(?: to have| to see)? "
    r"(?:put |placed |moved |taken |brought )?(?P<prep>on top of|onto|on|into|inside|in) (?P<dest>.+)$|"
    rf"^(?P<obj2>{NOUN_START} .+?) (?P<prep2>on top of|onto|on|into|inside|in) (?P<dest2>{NOUN_START} .+?) "
    r"(?:is what )?(?:i|we) (?:need|want|would like|would love)$"
)
DECLARATIVE = re.compile(
    r"^(?P<obj>.+?)\s+(?:goes|belongs|lives|(?:should|must|needs to|has to|ought to|can|could|may|might|will)"
    r"(?: really| actually| definitely| probably| properly| honestly| by rights)? (?:be|go|live|sit|stay|belong|end up)"
    r"(?: sitting| kept| living| standing| lying| placed| put| stored)?|(?:made|makes|make|could make|would make) "
    r"(?:its|their) way|ended up|ends up|end up)\s+"
    r"(?:back\s+)?(?P<prep>on top of|onto|on|into|inside|in|to)\s+(?P<dest>.+?)(?:\s+please)?(?:\s+put it there)?$"
)
# What not to do or take: a piece to drop, or what narrows the clause before.
NOT_DOING = re.compile(r"^(?:but |and )?(?:please )?(?:do not|never|no need to)(?! forget\b) [a-z]+\b")
LEFT_BE = re.compile(
    rf"^(?:leave|keep) (?:{NOUN_START}|the) .+? (?:where (?:it is|they are)|alone|be|as it is|as they are)$"
)
NOT_THING = re.compile(
    rf"^(?:but |and )?(?:no,? )?(?:not|rather than|instead of) (?P<x>(?:{NOUN_START}|any) .+?)"
    rf"(?:,? (?:but |rather |instead )?(?P<y>(?:{NOUN_START}) .+))?$"
)
BOTH_OF_THEM = re.compile(r"^(?:both|all|each)(?: of (?:them|those|these|the lot))?$|^the (?:two|three) of them$")
# A thing and what it is not, tersely: "red cup not blue", "the red cup rather than the blue".
THING_NOT = re.compile(
    r"^(?P<x>[a-z0-9' ]+?),? (?:and )?(?:not|rather than|instead of) (?:the )?(?P<y>[a-z ]+?)(?: one)?$"
)
STATE_VERBS = frozenset(
    {"is", "are", "was", "were", "needs", "need", "goes", "belongs", "should", "must", "can", "could", "has", "have"}
)
COLOUR_ONLY = re.compile(
    rf"^(?:the )?(?P<colour>{COLOUR_WORDS})(?: one)?"
    r"(?:,? (?:not|rather than|instead of) (?:the )?[a-z]+(?: one)?)?$"
)
THING_WORDS = frozenset({"on", "in", "at", "by", "from", "near", "next", "to", "beside", "of", "top", "off", "inside"})
NOT_COLOUR = re.compile(rf"^(?:but )?not (?:the )?(?:{COLOUR_WORDS})(?: one)?$")
GO_THERE = re.compile(r"^(?:off you (?:go|pop|trot|toddle)|away you go|go there|head there|go|go on then)$")
AND_ONTO = re.compile(r"^(?:and )?(?:then )?(?:onto|on to|on|into|to|over to) (?P<dest>(?:the|my|your|our) .+)$")
OTHER_ONE = re.compile(r"^(?:the|that) other(?: one| ones)?$")
# Where a thing should be and is not: "the marker still is not on the side table where it should be".
NOT_WHERE_IT_BELONGS = re.compile(
    rf"^(?:.+? (?:and|but|so) )?(?P<obj>{NOUN_START}(?: (?!(?:is|are|and|but|so)\b)[a-z0-9']+)+?) (?:still |yet )?"
    r"(?:is|are) (?:still )?not (?:yet )?(?:back )?"
    r"(?P<prep>on top of|on|in|inside) (?P<dest>.+?)"
    r"(?: where (?:it|they) (?:should be|belongs?|goes|go|should go|lives?)| yet| again)$"
)
VERBS = (
    r"bring|put|place|move|take|carry|set|return|deliver|drop|transfer|relocate|pick|grab|get|fetch|lift|hold|"
    r"collect|retrieve|grasp|give|hand|go|drive|navigate|head|walk|come|travel|proceed|find|look|search|locate|"
    r"check|inspect|observe|examine|scan|say|tell|announce|wait|pause|stay"
)
_SPLIT_BEFORE = "|".join(sorted(CLAUSE_STARTS | {"i", "please", "maybe", "perhaps", "just"}))
AND_VERB = re.compile(rf"\s*(?:,\s*and|,|\band|(?<!\bif )\bso)\s+(?=(?:{_SPLIT_BEFORE})\b)|\s*[,:]\s*|\s+[-–—]+\s+")

_BASIC_PREP = r"(?:on top of|onto|on|into|inside|in|to)"
PAIRED_PLACES = re.compile(
    rf"^(?P<verb>put|place|move|set|bring|take|carry|leave|drop) (?P<x1>{NOUN_START} .+?) (?P<p1>{_BASIC_PREP}) "
    rf"(?P<d1>{NOUN_START} .+?),? and (?P<x2>{NOUN_START} .+?) (?P<p2>{_BASIC_PREP}) (?P<d2>{NOUN_START} .+)$"
)
PLACE_FIRST = re.compile(r"^(?:to|onto|into|on top of|over to|on|in|inside)\s")
BARE_PLACE = re.compile(
    r"^(?:(?:over|back|off|across|round|along) )*(?:to|into|towards|toward) (?=(?:the|my|our|your)\b)"
)
# The place first, then what goes there: "to the table the plate goes", "onto the shelf goes the book".
PLACE_THEN_GOES = re.compile(
    rf"^(?P<prep>on top of|onto|on|into|inside|in|to|over to) "
    rf"(?P<dest>{NOUN_START}(?: (?!(?:is|are|was|where|that|which|who)\b)[a-z0-9']+)+?) "
    rf"(?:(?P<obj>{NOUN_START} .+?) (?:goes|go|should go|belongs|needs to go|has to go|can go)|"
    rf"(?:goes|go|belongs) (?P<obj2>{NOUN_START} .+))$"
)
WHERE_DECLARATIVE = re.compile(
    r"^(?P<prep>on top of|onto|on|into|inside|in) (?P<dest>.+?) is where (?P<obj>.+?) (?:should go|goes|belongs|"
    r"should be|needs to go|has to go|should live|lives|is kept|stays)$"
)
WITH_PLACE = re.compile(
    r"^(?:(?:go|head|come|get|move) )?(?P<prep>to|onto|into|over to|on top of) (?P<dest>.+?) with (?P<obj>.+)$"
)
# Asked as a question: "the lemon, could it go on the counter?"
COULD_IT_GO = re.compile(
    r"^(?:could|can|would|will|might|should) (?P<obj>it|they|that|this|(?:the|my|your|our) .+?) "
    r"(?:go|be put|be placed|live|sit|stay|end up|fit) (?P<prep>on top of|onto|on|into|inside|in) (?P<dest>.+)$"
)
WHERE_IT_GOES = re.compile(
    r"^where (?P<obj>.+?) (?:should go|goes|belongs|should be|needs to go) is (?:on |in |onto )?(?P<dest>.+)$|"
    r"^(?P<dest2>(?:the|my|your|our) .+?) is where (?P<obj2>.+?) (?:should go|goes|belongs|should be|needs to go|"
    r"lives|is kept|stays|ought to (?:go|be|end up)|should end up|needs to end up|has to go|belongs now)$"
)
INVERTED_PLACE = re.compile(
    r"^(?P<verb>bring|take|put|move|carry|place|get|deliver) (?P<prep>to|onto|into|over to|on) (?P<dest>.+?) "
    rf"(?P<obj>{NOUN_START} .+)$"
)
VERBLESS_PLACE = re.compile(
    rf"^(?P<obj>{NOUN_START} .+?) (?<!\bnext )(?<!\bclose )(?:to|onto|into|on top of|over to) .+$"
)
NAMES_TO_PLACE = re.compile(r"^(?P<obj>[a-z0-9' ]+?) (?P<prep>to|onto|into|on) (?P<dest>.+)$")
TWO_NAMES = re.compile(r"^(?:place|put|move|set|bring|take|carry|deliver)? ?(?P<names>[a-z0-9' ]+)$")
GIVE_ME = re.compile(r"^(?:give|hand|pass|bring) (?:it )?(?:to )?me(?: it)?$")
PLACE_ONLY = re.compile(
    r"^(?:place|put|drop|set|leave|release|put it|place it)(?: down)?(?: on| onto| in| at)? (?P<dest>.+)$"
)
PLACE_THERE = re.compile(
    r"^(?:bring|put|place|move|take|carry|set|leave|drop|stick|pop|stand|lay)\s+(?P<obj>(?!it$|them$).+?)\s+"
    r"(?:over |right |back |in |down )?there$"
)
PLACE = re.compile(
    r"^(?:bring|put|place|move|take|carry|set|return|deliver|drop|transfer|relocate|get|leave|give|hand|pass)\s+"
    r"(?P<obj>.+)\s+"
    r"(?:back\s+)?(?P<prep>on top of|onto|on|into|inside|in|to|over to|towards|toward)\s+(?P<dest>.+)$"
)
FETCH = re.compile(
    r"^(?:(?:bring|give|hand|get|fetch|pass)\s+me\s+(?P<a>.+)|(?:pick\s+up|pick|grab|take|get|fetch|lift|hold|collect|"
    r"retrieve|grasp|bring)\s+(?P<b>(?!(?:on|up|tight|still|off|back)$)(?!(?:to|into|onto|over to|on|in) ).+?)"
    r"(?:\s+up)?"
    r"(?:\s+(?:to me|here|over here|for me))?)$"
)
GO = re.compile(
    r"^(?:go|drive|navigate|head|move|walk|come|travel|proceed|return|get|roll)\s+(?:back\s+)?(?:over\s+)?"
    r"(?:to|into|towards|toward|in|inside)\s+(?P<place>.+)$"
)
FIND = re.compile(r"^(?:find|look for|search for|search|locate|look around for|seek|hunt for|where's)\s+(?P<x>.+)$")
LOOK = re.compile(
    r"^(?:look at|look towards|look toward|look over at|check on|check|inspect|observe|examine|watch|scan|"
    r"look around|look around in|look in|look into)\s+(?P<x>.+)$"
)
SAY = re.compile(r"^(?:say|announce|speak|tell (?:me|them|us|everyone|everybody))\s+(?P<text>.+)$")
WAIT = re.compile(
    r"^(?:wait|pause|stay|hold on|stand still|sleep)(?:\s+(?:here|still|there))?(?:\s+for)?\s+(?P<n>\d+(?:\.\d+)?|"
    + "|".join(NUMBERS)
    + r")\s*(?P<unit>seconds?|secs?|s|minutes?|mins?|m)?$"
)


@dataclass
class _Carry:
    """What one stage's text leaves the next: the verb a bare place goes on with, a fronted object."""

    previous_verb: str = ""  # "go to" / "look at"
    topic: str | None = None  # "the bottle on the shelf? move it ...": what a later "it" means
    soft_topic: str | None = None  # the subject of a remark: "it" if a later clause says so, else nothing
    soft_place: str | None = None  # the place a remark names: "there" if a later clause says so


@dataclass
class Pending:
    """A command waiting for the user to say which of the candidates a phrase meant."""

    clauses: list[list[Clause]]
    slot: Slot
    candidates: list[str]


class OfflineParser:
    name = "offline"

    def __init__(self, use_embeddings: bool = True) -> None:
        self.use_embeddings = use_embeddings

    def interpret(self, command: str, graph: SceneGraph, pending: Pending | None = None) -> Interpretation:
        reason = invalid_reason(command)
        if reason:
            return Interpretation(Outcome.INVALID, reason, backend=self.name)
        # Quoted text is what a note or a person says: data, never an instruction (only SAY reads it).
        quoted, quotes = quote_spans(command)
        raw = plain_command(quoted, quotes)
        text = normalize(raw)
        refused = refusal(without_quotes(raw))
        if refused:
            return Interpretation(Outcome.REFUSE, refused.reason, refusal_kind=refused.kind, backend=self.name)
        grounder = Grounder(graph, self.use_embeddings)
        if pending is not None:
            answered = self._answer(text, pending, grounder)
            if answered is not None:
                return answered
        said = [part for part in _stages(raw) if not _only_context(part)]  # "my memory is not what it was. where ...?"
        pieces = [piece for part in said for piece in _clauses(part) if not _only_context(piece)]
        for asking in (said, pieces):  # "I'm about to cook, what's on the table?": the question alone
            if len(asking) == 1:
                asked = ASK_ABOUT.sub("", plain_clause(normalize(asking[0])))
                if QUESTION.match(asked):
                    asked = _with_topic(asked, [p for p in _stages(raw) for p in _clauses(p) if p not in asking])
                    return answer_question(unquote(asked, quotes), grounder, self.name)
        stages: list[list[Clause]] = []
        carry = _Carry()
        for part in _stages(raw):
            clauses = self._part_clauses(part, quotes, stages, carry, grounder)
            if clauses is None:
                return self._unread(part, quotes, grounder)
            for clause in clauses:
                if clause.with_previous and stages:
                    stages[-1].append(clause)
                else:
                    stages.append([clause])
        if carry.topic is not None and not stages:  # only a noun phrase: "the remote, please"; "the cup on the shelf"
            alone = self._clause(f"put {carry.topic}", quotes) or self._clause(f"bring me {carry.topic}", quotes)
            if alone is not None:
                stages, carry.topic = [[alone]], None
        if carry.topic is not None:  # a noun phrase no clause refers to
            return self._not_understood(carry.topic, quotes)
        if not stages:
            return Interpretation(Outcome.INVALID, "The command has no instruction I can follow.", backend=self.name)
        _link_pronouns(stages)
        grounded = self._ground(_without_repeats(stages), grounder)
        parts = _stages(raw)
        if grounded.outcome in (Outcome.UNKNOWN_OBJECT, Outcome.REFUSE, Outcome.INVALID) and len(parts) == 1:
            # the patterns misread the word order ("cup red to coffee table bring"): every word a name,
            # a verb or a small word reads one way
            return self._by_roles(parts[0], quotes, grounder) or grounded
        return grounded

    # --- parsing -------------------------------------------------------------------------------

    def _not_understood(self, text: str, quotes: list[str]) -> Interpretation:
        unparsed = unquote(normalize(text), quotes)
        return Interpretation(
            Outcome.INVALID,
            f"I did not understand {unparsed!r}. I can go to places, look at things, find, pick up and "
            "put down objects, say something and wait.",
            backend=self.name,
        )

    def _unread(self, text: str, quotes: list[str], grounder: Grounder) -> Interpretation:
        """A piece no pattern reads: where it names a thing this world does not have ("switch on the
        projector"), what is known instead; otherwise that it was not understood."""
        plain = unquote(plain_clause(normalize(text)), quotes)
        by_roles = self._by_roles(text, quotes, grounder)
        if by_roles is not None:  # "apple you bring for me from kitchen"
            return by_roles
        for match in UNREAD_THING.finditer(plain):
            resolution = grounder.resolve(match.group(0), THINGS)
            if not resolution.candidates:
                unknown = unknown_reply(match.group(0), resolution.similar, grounder, self.name)
                unknown.unknown_object = strip_determiners(match.group(0))
                return unknown
        return self._not_understood(text, quotes)

    def _by_roles(self, text: str, quotes: list[str], grounder: Grounder) -> Interpretation | None:
        """The piece read from its verb and named things in any order (planning/role_reading.py), where
        that reading grounds to a goal or a question about which thing."""
        plain = TRAILING.sub("", POLITE.sub("", unquote(normalize(text), quotes)))  # the words as said, in order
        clause = read_by_roles(plain, grounder)
        if clause is None:
            return None
        grounded = self._ground([[clause]], grounder)
        return grounded if grounded.outcome in (Outcome.GOAL, Outcome.CLARIFY) else None

    def _part_clauses(
        self, part: str, quotes: list[str], stages: list[list[Clause]], carry: _Carry, grounder: Grounder
    ) -> list[Clause] | None:
        """The clauses of one stage's text, None when a piece is an instruction I cannot read.

        A piece that does not parse is tried joined with the next ("bring the cup, to the table");
        a piece that only gives context ("I'm cold", "hey robot") is dropped; a noun phrase before a
        clause that says "it" is what "it" means ("the mug on the desk, can you take it away").
        """
        pieces = [normalize(p) for p in _clauses(part)]
        pieces = [p for p in pieces if p]
        after_stages = bool(stages)
        clauses: list[Clause] = []

        def latest_clause() -> (
            Clause | None
        ):  # what a correction or a "not ..." may change, in this stage or the one before
            return clauses[-1] if clauses else (stages[-1][-1] if stages and stages[-1] else None)

        def change_latest(changed: Clause) -> None:
            if clauses:
                clauses[-1] = changed
            else:
                stages[-1][-1] = changed

        previous_piece = ""
        correcting = False  # the piece before took something back
        negating = False  # the piece before said what not
        negated_thing = ""  # what it said not to take, with no clause yet to narrow
        index = 0
        while index < len(pieces):
            piece = pieces[index]
            index += 1
            if STATEMENT.match(piece):
                continue  # "the note says ...": a remark about the world
            if REDUNDANT.match(TRAILING.sub("", POLITE.sub("", piece))) and (clauses or after_stages):
                continue  # "X belongs on Y, please put it there"
            last = clauses[-1] if clauses else None
            if last is not None and last.intent == "manipulate" and MANNER_START.match(piece):
                joined = self._clause(f"{previous_piece} {piece}", quotes)  # "..., without touching the vase"
                if joined is not None:
                    clauses[-1], previous_piece = joined, f"{previous_piece} {piece}"
                    continue
            if (asked_about := _asked_about(piece)) is not None:
                carry.topic = asked_about  # "have you seen my keys? bring them to me"
                continue
            if NOT_DOING.match(piece) or LEFT_BE.match(piece):
                continue  # "don't go to the kitchen, go to the bedroom"; "leave the mug where it is and ..."
            if (negated := NOT_THING.match(piece)) is not None:  # "not the red one, the blue one"
                target = latest_clause()
                if negated["y"] is not None:
                    if target is not None:
                        fixed = corrected(target, plain_correction(negated["y"]), None, grounder)
                        change_latest(_excluding(fixed, negated["x"]) if fixed is not None else target)
                    else:
                        carry.topic = phrase_instead(negated["x"], negated["y"])  # "not the blue cup, the red one"
                elif target is not None:
                    change_latest(_excluding(target, negated["x"]))
                    correcting = False
                    negating = True
                else:
                    negated_thing, negating = negated["x"], True  # "not the blue cup, the red one"
                continue
            if NOT_COLOUR.match(piece):
                continue  # "the white one, not red": said already by the one before
            if negating and negated_thing and _noun_phrase(piece) and piece.split()[-1] == "one":
                carry.topic, negating = phrase_instead(negated_thing, piece), False
                continue
            if clauses and BOTH_OF_THEM.match(piece):  # "carry those cups to the table, both of them"
                clauses[-1] = replace(
                    clauses[-1], slots=[replace(s, plural=s.kinds == THINGS) for s in clauses[-1].slots]
                )
                continue
            if (terse := THING_NOT.match(piece)) and _only_names(terse["x"], grounder.vocabulary | DETERMINER_WORDS):
                carry.topic = terse["x"]  # "red cup not blue. kitchen table."
                continue
            place_only = re.sub(r"^(?:to|onto|into|on|over to) ", "", piece)
            if carry.topic is not None and not clauses and _only_place(place_only, grounder):
                clauses.append(
                    Clause("place", [Slot(unquote(carry.topic, quotes), THINGS), Slot(place_only, SURFACES)])
                )
                carry.topic = None  # "the red cup. to the sideboard."
                continue
            if clauses and _noun_phrase(piece) and piece.split()[-1] in ("one", "ones"):
                fixed = corrected(clauses[-1], piece, None, grounder)  # "bring me my cup, the green one"
                if fixed is not None:
                    clauses[-1] = fixed
                    continue
            if negating and OTHER_ONE.match(piece):
                continue  # "..., not the kitchen table, the other one": said already
            if negating and _noun_phrase(piece) and (target := latest_clause()) is not None:
                negating = False  # "... not the red one, the blue one": what instead
                change_latest(corrected(target, plain_correction(piece), None, grounder) or target)
                continue
            negating = False
            colour_only = COLOUR_ONLY.match(piece)
            said_last = index == len(pieces) or bool(NOT_COLOUR.match(pieces[index]))  # not "take the, green, cup ..."
            if (
                colour_only is not None
                and said_last
                and (clauses or carry.topic is not None or stages)
                and not grounder.is_name(colour_only["colour"])
            ):
                said = f"the {colour_only['colour']} one"  # "cup to the sideboard. blue, not red."
                if carry.topic is not None and not clauses:
                    carry.topic = phrase_instead(carry.topic, said)
                elif (target := latest_clause()) is not None:
                    change_latest(corrected(target, said, None, grounder) or target)
                continue
            if carry.topic is not None and not clauses and _noun_phrase(piece) and piece.split()[-1] == "one":
                carry.topic = phrase_instead(carry.topic, piece)  # "the stapler, the black one, stick it ..."
                continue
            if carry.topic is not None and not clauses and GO_THERE.match(piece) and _only_place(carry.topic, grounder):
                clauses.append(Clause("go", [Slot(carry.topic, PLACES)]))  # "bedroom. off you go."
                carry.topic = None
                continue
            if clauses and clauses[-1].intent == "fetch" and (onto := AND_ONTO.match(piece)) is not None:
                taken = clauses[-1].slots[0]  # "get the ball down off the shelf and onto the coffee table"
                clauses[-1] = Clause("place", [taken, Slot(onto["dest"], SURFACES)])
                continue
            said_instead = correction_of(piece) if not clauses and carry.topic is not None else None
            if said_instead is None and correcting and not clauses and carry.topic is not None and _only_a_thing(piece):
                said_instead = plain_correction(piece)  # after "the red cup, no wait,": what instead
            if said_instead is not None and carry.topic is not None:
                correcting = not said_instead
                if said_instead:  # "the red cup, no wait, the blue one, bring it here"
                    carry.topic = phrase_instead(carry.topic, said_instead)
                continue
            instead = correction_of(piece) if clauses else None
            if instead is None and correcting and clauses:
                instead = plain_correction(piece)  # after "no wait,": what instead; "I mean the box, the purple box"
            if instead is not None:
                correcting = True
                if not instead:
                    continue  # "no wait": what follows says what instead
                fixed = corrected(clauses[-1], instead, self._clause(instead, quotes), grounder)
                if fixed is not None:
                    clauses[-1] = fixed
                    continue
            correcting = False
            if paired := self._paired_places(piece, quotes):  # "put A on B and C on D": one verb, two moves
                clauses += paired
                previous_piece = piece
                continue
            clause = self._clause(piece, quotes)
            if clause is None and (carry.topic is not None or clauses):  # "the blue book, bring to the nightstand"
                verb, _, rest = plain_clause(piece).partition(" ")
                if verb in CLAUSE_STARTS and PLACE_FIRST.match(f"{rest} "):
                    thing = carry.topic or "it"  # "take the lemon and put on the counter": the lemon
                    clause = self._clause(f"{verb} {thing} {rest}", quotes)
                    if clause is not None:
                        carry.topic = None
            if clause is None:
                clause = self._terse(
                    plain_clause(piece), quotes, grounder, bool(clauses) or after_stages, len(pieces) == 1
                )
            if clause is None and carry.previous_verb and re.match(r"^(?:to|into|on|onto|at)\b", piece):
                verb = carry.previous_verb.split(maxsplit=1)[0]
                clause = self._clause(f"{verb} {piece}", quotes)  # "go to A and then to B"
            if clause is None and clauses and clauses[-1].intent == "wait" and BARE_WAIT.match(plain_clause(piece)):
                continue  # "for ten seconds, just wait": the wait was said already
            if clause is None and is_context(piece, grounder.vocabulary):
                if carry.topic is None:  # "the mug on the nightstand needs washing, take it ..."
                    remarked = _remark_topic(piece, grounder)
                    here = remarked is not None and bool(grounder.resolve(remarked).candidates)
                    kept = carry.soft_topic is not None and bool(grounder.resolve(carry.soft_topic).candidates)
                    if remarked is not None and (here or not kept):  # a thing here outranks one that is not
                        carry.soft_topic = remarked
                named_places = REMARK_PLACE.findall(piece)
                if named_places:  # "I've spilt juice on the table, bring the sponge there"
                    carry.soft_place = named_places[-1]
                continue  # "I'm thirsty": why, not what
            phrase = TRAILING.sub("", plain_clause(piece)) if clause is None else ""
            if clause is None and _noun_phrase(phrase) and index == len(pieces):
                if clauses:  # "put the cup on the table, and the bowl too"
                    clause = _elided(clauses[-1], phrase)
                elif carry.previous_verb:  # "go to the counter, then the sideboard"
                    clause = self._clause(f"{carry.previous_verb} {phrase}", quotes)
                if clause is not None:
                    clauses.append(clause)
                    continue
            if clause is None and clauses and previous_piece:  # "bring the cup, to the table"
                joined_clause = self._clause(f"{previous_piece} {piece}", quotes)
                if joined_clause is not None:
                    clauses[-1], previous_piece = joined_clause, f"{previous_piece} {piece}"
                    continue
            while clause is None and index < len(pieces):  # "bring, the cup to the table"
                if (_noun_phrase(piece) or _names_things(piece, grounder)) and (
                    re.search(r"\b(?:it|them)\b", pieces[index]) or correction_of(pieces[index]) is not None
                ):
                    break  # "the ball, into the bedroom with it", "the red cup, no wait, ...": the thing first
                joined_clause = self._clause(f"{piece} {pieces[index]}", quotes)
                if joined_clause is None and PLACE_FIRST.match(piece):  # "to the sideboard, bring the cup"
                    joined_clause = self._clause(f"{pieces[index]} {piece}", quotes)
                    if joined_clause is None and _noun_phrase(TRAILING.sub("", plain_clause(pieces[index]))):
                        thing = TRAILING.sub("", plain_clause(pieces[index]))  # "on the table, the plate, please"
                        joined_clause = self._clause(f"put {thing} {piece}", quotes)
                if joined_clause is None:
                    break
                piece, clause = f"{piece} {pieces[index]}", joined_clause
                index += 1
            if (
                clause is None
                and not clauses
                and index == len(pieces)
                and BARE_PLACE.match(plain_clause(piece))
                and len(THING_PHRASE.findall(plain_clause(piece))) == 1
            ):
                clause = self._clause(f"go {plain_clause(piece)}", quotes)  # "over to the printer cabinet!": go there
            if clause is None and not _noun_phrase(piece):
                clause = _by_what_it_holds(plain_clause(piece), quotes)  # a verb no lexicon has
            if clause is None:
                if (
                    _noun_phrase(piece) or _only_names(piece, grounder.vocabulary) or _names_things(piece, grounder)
                ) and carry.topic is None:
                    carry.topic = piece  # a fronted object, for the next clause's "it"; "orange juice, please"
                    continue
                whole = _by_what_it_holds(plain_clause(" ".join(pieces)), quotes)  # "for ten seconds, just wait"
                return [whole] if whole is not None and not clauses else None
            previous_piece = piece
            clause.optional = clause.intent == "fetch" and is_context(piece)  # "I want a coffee, ..."
            if carry.soft_place is not None:
                for position, slot in enumerate(clause.slots):
                    if slot.phrase.strip() == "there" and slot.kinds == SURFACES:
                        clause.slots[position] = Slot(unquote(carry.soft_place, quotes), SURFACES)
            topic = carry.topic or carry.soft_topic
            if topic is not None:
                for position, slot in enumerate(clause.slots):
                    phrase = normalize(slot.phrase)
                    if phrase in PRONOUNS or (phrase in PERSONAL_FOR_THING and slot.kinds == THINGS):
                        plural = phrase in PLURAL_PRONOUNS
                        said = unquote(topic, quotes)
                        parts = split_objects(said) if plural and clause.intent in ("place", "find", "look") else [said]
                        clause.slots[position : position + 1] = [Slot(p, slot.kinds, plural=plural) for p in parts]
                        carry.topic = carry.soft_topic = None
                        break
                    if _same_noun_again(phrase, normalize(topic)):  # "the red cup isn't mine, put the blue one ..."
                        clause.slots[position] = Slot(_with_noun_of(phrase, normalize(topic)), slot.kinds)
                        carry.topic = carry.soft_topic = None
                        break
            if carry.topic is not None and any(normalize(s.phrase) == normalize(carry.topic) for s in clause.slots):
                carry.topic = None  # "the cereal box, sorry, the cereal box needs to go ...": said again, used
            carry.previous_verb = {"go": "go to", "look": "look at"}.get(clause.intent, "")
            if any(normalize(s.phrase) not in PRONOUNS for s in clause.slots if s.kinds[0] == ObjectKind.OBJECT):
                carry.soft_topic = None  # a thing named since the remark: the next "it" is that one
            clauses.append(clause)
        return clauses

    def _paired_places(self, piece: str, quotes: list[str]) -> list[Clause] | None:
        """ "put the red book on the nightstand and the blue book on the dresser": two place clauses
        of one stage, or None."""
        match = PAIRED_PLACES.match(plain_clause(piece))
        if match is None:
            return None
        first = self._clause(f"{match['verb']} {match['x1']} {match['p1']} {match['d1']}", quotes)
        second = self._clause(f"{match['verb']} {match['x2']} {match['p2']} {match['d2']}", quotes)
        if first is None or second is None or first.intent != "place" or second.intent != "place":
            return None
        second.with_previous = True
        return [first, second]

    def _terse(self, text: str, quotes: list[str], grounder: Grounder, after: bool, alone: bool) -> Clause | None:
        """Short forms: "black stapler -> side table" (names, no article, to a place); "place red_cup
        dining_table" and "red_cup: dining_table" (two names, where one split of the words names one
        object and one place); after another step, "place coffee_table" (what is held, put there) and
        "give me" (what was taken). Names without articles only where they are all a stage says.
        """
        vocabulary = grounder.vocabulary
        if alone and (match := NAMES_TO_PLACE.match(text)) and _only_names(match["obj"], vocabulary):
            return self._clause(f"put the {match['obj']} {match['prep']} {match['dest']}", quotes)
        if alone and (match := TWO_NAMES.match(text)) and _only_names(match["names"], vocabulary):
            words = match["names"].split()
            splits = [
                (" ".join(words[:i]), " ".join(words[i:]))
                for i in range(1, len(words))
                if len(grounder.resolve(" ".join(words[:i]), OBJECTS).candidates) == 1
                and len(grounder.resolve(" ".join(words[i:]), SURFACES).candidates) == 1
            ]
            if len(splits) == 1:
                return Clause("place", [Slot(splits[0][0], THINGS), Slot(splits[0][1], SURFACES)])
        if after and (match := PLACE_ONLY.match(text)) and _only_names(strip_determiners(match["dest"]), vocabulary):
            return Clause("place", [Slot("it", THINGS), Slot(match["dest"], SURFACES)])
        if after and GIVE_ME.match(text):
            return Clause("fetch", [Slot("it", THINGS)])
        return None

    def _clause(self, text: str, quotes: list[str]) -> Clause | None:
        clause = self._plain_clause(plain_clause(text), quotes)
        if clause is not None:
            for slot in clause.slots:
                slot.phrase = unquote(slot.phrase, quotes)  # a quoted name is only compared, never followed
        return clause

    def _plain_clause(self, text: str, quotes: list[str]) -> Clause | None:
        text = TRAILING.sub("", POLITE.sub("", text)).strip()
        if not text:
            return None
        if match := WAIT.match(text):
            return Clause("wait", value=_seconds(match["n"], match["unit"]))
        if match := SAY.match(text):
            quoted_words = QUOTE_TOKEN.search(match["text"])  # a quote is what is said, not the words around it
            said = quoted_words.group(0) if quoted_words else match["text"]
            spoken = " ".join(re.findall(r"[a-z0-9']+", unquote(said, quotes)))
            return Clause("say", value=spoken) if spoken else None
        if match := FIND.match(text):
            return Clause("find", [Slot(x, OBJECTS) for x in split_objects(match["x"])])
        if match := LOOK.match(text):
            return Clause("look", [Slot(x, PLACES) for x in split_objects(match["x"])])
        if (match := FETCH.match(text)) and match["a"]:
            return Clause("fetch", [Slot(match["a"], THINGS)])
        if match := PLACE_THEN_GOES.match(text):
            text = f"put {match['obj'] or match['obj2']} {match['prep']} {match['dest']}"
        elif match := WANTED_ON.match(text):  # "the bowl I'd like on the table", "the bowl on the table I'd like"
            said_first = match["obj"] is not None
            obj, prep, dest = match.group(*(("obj", "prep", "dest") if said_first else ("obj2", "prep2", "dest2")))
            text = f"put {obj} {prep} {dest}"
        elif match := (
            DECLARATIVE.match(text)
            or WHERE_DECLARATIVE.match(text)
            or NOT_WHERE_IT_BELONGS.match(text)
            or COULD_IT_GO.match(text)
        ):
            text = f"put {match['obj']} {match['prep']} {match['dest']}"
        elif match := WITH_PLACE.match(text) or INVERTED_PLACE.match(text):
            text = f"put {match['obj']} {match['prep']} {match['dest']}"  # "to the sideboard with the plate"
        elif match := WHERE_IT_GOES.match(text):
            text = f"put {match['obj'] or match['obj2']} on {match['dest'] or match['dest2']}"
        elif (
            (match := VERBLESS_PLACE.match(text))
            and not set(match["obj"].split()) & (CLAUSE_STARTS | {"you"})
            and not is_context(match["obj"])  # "the kids want to play"
        ):
            text = f"put {text}"  # "the banana to the kitchen table, please"
        if match := PLACE_THERE.match(text):  # "..., then put the bowl there too": the place said before
            return Clause("place", [*(Slot(o, THINGS) for o in split_objects(match["obj"])), Slot("there", SURFACES)])
        if manipulation := manipulation_clause(text):
            return manipulation
        if (match := PLACE.match(text)) and text.startswith("get ") and match["prep"] in ("on", "in", "inside"):
            match = None  # "get the yellow thing on the table": the one there; "get it to / onto the table": put
        if match:
            destination = strip_determiners(match["dest"])
            if destination in (
                "me",
                "here",
                "over here",
                "you",
                "the user",
                "hand",
                "hands",
                "lap",
                "my hand",
                "my hands",
            ):
                return Clause("fetch", [Slot(re.sub(r"\s+(?:over )?here$", "", match["obj"]), THINGS)])
            taken = re.sub(r"\s+and$", "", match["obj"])  # "get the ball down off the shelf and onto the table"
            objects = split_objects(re.sub(PARTICLE, "", taken))  # "bring it over to", "carry it through to"
            return Clause("place", [*(Slot(o, THINGS) for o in objects), Slot(match["dest"], SURFACES)])
        if match := GO.match(text):
            return Clause("go", [Slot(match["place"], PLACES)])
        if match := FETCH.match(text):
            phrase = match["a"] or match["b"]
            objects = split_objects(phrase)
            if len(objects) > 1:
                return None  # one hand: "pick up A and B" cannot end holding both
            return Clause("fetch", [Slot(phrase, THINGS)])
        return None

    # --- grounding -----------------------------------------------------------------------------

    def _ground(self, stages: list[list[Clause]], grounder: Grounder) -> Interpretation:
        graph = grounder.graph
        stages = _without_unmet_wishes(stages, grounder)
        notes: list[str] = []
        for stage in stages:
            for clause in stage:
                if clause.intent in ("place", "find", "look"):  # "put both books on the table": each of them
                    moved = len(clause.slots) - 1 if clause.intent == "place" else len(clause.slots)
                    each = [one for slot in clause.slots[:moved] for one in _each_thing(slot, grounder)]
                    clause.slots = each + clause.slots[moved:]
                for slot in clause.slots:
                    if slot.resolved is not None:
                        continue
                    found = self._resolve_slot(slot, grounder)
                    if isinstance(found, Interpretation):
                        if found.outcome == Outcome.CLARIFY:
                            found.pending = Pending(stages, slot, found.candidates)
                        if found.outcome == Outcome.UNKNOWN_OBJECT:
                            return self._every_unknown(found, clause, slot, grounder)
                        return found
                    slot.resolved = found
                    note = grounder.missing_note(found) if grounder.is_missing(found) else ""
                    if note and note not in notes:
                        notes.append(note)  # nothing live fits: the one last seen there, said so
                reference = clause.slots[1].resolved if clause.intent == "manipulate" else None
                if reference is not None and graph.objects[reference].kind == ObjectKind.ROOM:
                    clause.intent, clause.slots = "place", clause.slots[:2]  # "to the dining room, slowly": PLACE
                if clause.intent == "manipulate" and clause.slots[0].resolved == clause.slots[1].resolved:
                    what = grounder.describe(clause.slots[0].resolved or "")
                    return Interpretation(
                        Outcome.INVALID, f"I cannot put {what} relative to itself.", backend=self.name
                    )
                movers = {"place": len(clause.slots) - 1, "fetch": len(clause.slots), "manipulate": 1}
                if clause.intent in movers:
                    for slot in clause.slots[: movers[clause.intent]]:
                        assert slot.resolved is not None
                        kind = graph.objects[slot.resolved].kind
                        if kind != ObjectKind.OBJECT:
                            return Interpretation(
                                Outcome.REFUSE,
                                f"I cannot pick up {grounder.describe(slot.resolved)}: I only move objects, "
                                "not furniture or rooms.",
                                refusal_kind="infeasible",
                                backend=self.name,
                            )
        goal = Goal([[c for clause in stage for c in clause.conditions(graph)] for stage in stages])
        return Interpretation(Outcome.GOAL, f"Goal: {goal}", goal=goal, backend=self.name, notes=notes)

    def _every_unknown(self, found: Interpretation, clause: Clause, slot: Slot, grounder: Grounder) -> Interpretation:
        """The unknown-object reply naming every thing of the clause this scene does not have
        ("bring the pens and the scissors": neither is here), not only the first."""
        unknown = [slot.phrase] + [
            other.phrase
            for other in clause.slots
            if other is not slot
            and other.resolved is None
            and ObjectKind.OBJECT in other.kinds[:1]
            and not grounder.resolve(other.phrase, other.kinds).candidates
        ]
        if len(unknown) == 1:
            return found
        named = [strip_determiners(normalize(u)) for u in unknown]
        listed = ", ".join(named[:-1]) + f" or {named[-1]}"
        reply = unknown_reply(slot.phrase, [], grounder, self.name)
        message = reply.message.replace(f"any {named[0]} here", f"any {listed} here", 1)
        return replace(reply, message=message, unknown_object=found.unknown_object)  # searched for: the first

    def _resolve_slot(self, slot: Slot, grounder: Grounder) -> str | Interpretation:
        resolution = grounder.resolve(slot.phrase, slot.kinds)
        candidates = resolution.candidates
        if len(candidates) > 1 and len(slot.kinds) > 1:
            # "go to the table": furniture and rooms before objects of the same name
            for kind in slot.kinds:
                of_kind = [c for c in candidates if grounder.graph.objects[c].kind == kind]
                if of_kind:
                    candidates = of_kind
                    break
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            unknown = unknown_reply(slot.phrase, resolution.similar, grounder, self.name)
            if ObjectKind.OBJECT in slot.kinds:  # rooms and furniture come from the map; objects can be searched for
                unknown.unknown_object = strip_determiners(normalize(slot.phrase))
            return unknown
        head = strip_determiners(normalize(slot.phrase))
        if len(head.split()) > 3 or set(head.split()) & GENERIC:
            head = ""  # "something to eat": the things' own name, or "one"
        return Interpretation(
            Outcome.CLARIFY,
            grounder.which_question(candidates, head),
            candidates=list(candidates),
            backend=self.name,
        )

    def _answer(self, text: str, pending: Pending, grounder: Grounder) -> Interpretation | None:
        """Complete a pending command with an answer like "the red one" or "the one on the counter"."""
        chosen = _choose(text, pending.candidates, grounder)
        if chosen is None:
            return None
        stages = [[replace(c, slots=[replace(s) for s in c.slots]) for c in stage] for stage in pending.clauses]
        for stage in stages:
            for clause in stage:
                for slot in clause.slots:
                    if (
                        slot.phrase == pending.slot.phrase
                        and slot.resolved is None
                        and slot.kinds == pending.slot.kinds
                    ):
                        slot.resolved = chosen
                        return self._ground(stages, grounder)
        return None


def _without_repeats(stages: list[list[Clause]]) -> list[list[Clause]]:
    """The stages without a fetch that repeats the one before it ("take the lemon and give it to me")."""
    kept: list[list[Clause]] = []
    for stage in stages:
        previous = kept[-1] if kept else []
        repeat = (
            len(stage) == len(previous) == 1
            and stage[0].intent == previous[0].intent == "fetch"
            and stage[0].slots[0] is previous[0].slots[0]
        )
        if not repeat:
            kept.append(stage)
    return kept


def _link_pronouns(stages: list[list[Clause]]) -> None:
    """ "pick up the banana and put it on the table": "it" is the banana's slot; "put the cup on the
    table, then the bowl there": "there" is the table's."""
    previous: Slot | None = None
    place: Slot | None = None
    for stage in stages:
        for clause in stage:
            for index, slot in enumerate(clause.slots):
                phrase = slot.phrase.strip()
                if phrase in PRONOUNS and previous is not None:
                    clause.slots[index] = previous
                elif phrase == "there" and slot.kinds == SURFACES and place is not None:
                    clause.slots[index] = place
            objects = [s for s in clause.slots if ObjectKind.OBJECT in s.kinds[:1]]
            if objects:
                previous = objects[0]
            if clause.intent in ("place", "go"):
                place = clause.slots[-1]


REMARK_PLACE = re.compile(
    r"\b(?:on|onto|over|all over|at|in|by|under|near) ((?:the|my|our|your) [a-z0-9' ]+?)(?=$| and\b| but\b)"
)
# A thing a remark names: "I can't find my glasses case, look for it".
REMARK_THING = re.compile(
    rf"\b(?P<np>{NOUN_START} [a-z0-9']+(?: [a-z0-9']+)*?)(?= (?:somewhere|anywhere|everywhere|again|earlier|today|"
    r"yet|still|at all|yesterday|here|there|and|"
    r"but|so|in|on|at|under|behind|near|by|from|off|down|up|away|for|to|with|is|are|was|were)\b|$)"
)
# A thing and where it was left: "I left a cup out in the living room", "something red on the counter".
REMARK_THING_PLACED = re.compile(
    r"\b(?P<np>(?:a|an|some|the|my|your|our|that|this) [a-z0-9']+(?: [a-z0-9']+)?|something(?: [a-z]+)?) "
    r"(?:(?:out|up|down|over|lying|sitting|lying around) )?(?P<prep>on top of|on|in|at|by|near|under) "
    r"(?P<place>(?:the|my|our|your) [a-z0-9' ]+?)(?=$| and\b| but\b| so\b)"
)
EXISTENTIAL = re.compile(r"^there (?:is|are|was|were|'s) (?P<np>(?:a|an|the|some|one|two|three|[2-9]|my|your|our) .+)$")
STATEMENT_SUBJECT = re.compile(
    r"^(?P<np>(?:the|my|your|our|this|that|any) .+?)(?: only| just| also| still| already| now)? (?:needs|need|is|are|"
    r"was|were|looks|seems|has|have|got|wants|should|must|does|keeps)\b"
)
ASKED_ABOUT = re.compile(
    r"^(?:(?:do )?you )?(?:see|notice|spot|remember|know|recall|mean) "
    r"(?P<a>(?:the|that|this|those|these|my|your|our) .+)$|"
    r"^(?:is|are) (?P<c>(?:the|my|your|our|that|this) .+?) (?:still )?(?:on top of|on|in|at|near|by|next to) .+$|"
    r"^(?:where (?:is|are)|where did (?:i|you|we) (?:put|leave)|where do you keep|have you seen|do you see|"
    r"can you see|is there|are there|do we have|do you know where) (?P<b>.+?)(?: is| are| go| at)?$"
)


def _asked_about(piece: str) -> str | None:
    """What a question or a "see that X?" before a request is about: the "it" of what follows."""
    match = ASKED_ABOUT.match(ASK_ABOUT.sub("", piece))
    return (match["a"] or match["b"] or match["c"]) if match else None


def _without_unmet_wishes(stages: list[list[Clause]], grounder: Grounder) -> list[list[Clause]]:
    """The stages without wishes that name no object here ("I want a coffee, so bring me the mug"),
    as long as another clause is left."""
    clauses = [c for stage in stages for c in stage]
    if len(clauses) < 2 or not any(c.optional for c in clauses):
        return stages

    asked_outright = any(not c.optional and c.intent in ("fetch", "place") for c in clauses)

    def unmet(clause: Clause) -> bool:
        if not clause.optional or clause.slots[0].resolved is not None:
            return False
        found = grounder.resolve(clause.slots[0].phrase, clause.slots[0].kinds).candidates
        objects = [c for c in found if grounder.graph.objects[c].kind == ObjectKind.OBJECT]
        # "I need something to write on, bring me the notepad": the request says which
        return not objects or (len(objects) > 1 and asked_outright)

    kept = [[c for c in stage if not unmet(c)] for stage in stages]
    kept = [stage for stage in kept if stage]
    return kept or stages


BARE_WAIT = re.compile(r"^(?:just |please )?(?:wait|pause|hold on|hang on|stay|stay put)(?: there| here)?$")
DURATION = re.compile(rf"\b(?P<n>\d+(?:\.\d+)?) (?P<unit>{TIME_UNIT})\b")
# Words around a duration that name no thing: "give it 10 seconds", "take a 10 seconds pause", "the next 5 seconds".
TIME_WORDS = re.compile(
    r"\b(?:a|an|it|the next|the following|another|more|extra|pause|break|breather|rest|wait|moment|while|bit|"
    r"time|the clock)\b"
)
THING_PHRASE = re.compile(r"\b(?:the|my|your|our|that|this|those|these|a|an|it|them)\b")
CARRIED_TO = re.compile(
    rf"^(?:\w+ ){{1,2}}(?P<obj>{NOUN_START} .+?) "
    r"(?P<prep>to|onto|into|on top of|over to|across to) (?P<dest>(?:the|my|your|our|that|this) .+)$"
)


def _by_what_it_holds(text: str, quotes: list[str]) -> Clause | None:
    """The clause a verb no lexicon has must mean, read from what the clause holds, where only one
    skill fits: words in quotes are said ("utter 'hi'"), a duration and nothing else is waited
    ("loiter for 5 seconds"), a thing carried to a place is put there ("shift the cup onto the
    table"). Anything else stays unread (an error), never guessed."""
    token = QUOTE_TOKEN.search(text)
    if token is not None and not THING_PHRASE.search(QUOTE_TOKEN.sub(" ", text)):
        return Clause("say", value=unquote(token.group(0), quotes)) if unquote(token.group(0), quotes) else None
    duration = DURATION.search(text)
    if duration is not None and token is None and not THING_PHRASE.search(TIME_WORDS.sub(" ", DURATION.sub(" ", text))):
        return Clause("wait", value=_seconds(duration["n"], duration["unit"]))
    carried = CARRIED_TO.match(text)
    if carried is not None and token is None and duration is None:
        return Clause("place", [Slot(carried["obj"], THINGS), Slot(carried["dest"], SURFACES)])
    return None


def _each_thing(slot: Slot, grounder: Grounder) -> list[Slot]:
    """One resolved slot for each thing a plural phrase names ("both books", "all the cups", "them
    both" after "there is a stapler on each desk"), or the slot itself where the phrase is not
    plural or its count does not fit what is here."""
    if slot.resolved is not None:
        return [slot]
    phrase = normalize(slot.phrase)
    if (every := EVERYTHING_THERE.match(phrase)) is not None:  # "everything from the dining table"
        places = grounder.resolve(every["place"], SURFACES).candidates
        if len(places) == 1:
            there = [
                e.id
                for e in grounder.entities
                if e.kind == ObjectKind.OBJECT
                and grounder.related(e.id, places[0], SOURCE_RELATIONS.get(every["relation"], every["relation"]))
            ]
            if there:
                return [Slot(phrase, slot.kinds, resolved=c) for c in there]
    quantity = QUANTITY.match(phrase)
    if quantity is None and not slot.plural:
        return [slot]
    wanted: int | None = None
    if quantity is not None:
        said = quantity.group(0).split()[0]
        wanted = 2 if said == "both" else COUNTS.get(quantity["n"] or quantity["m"] or "")
        phrase = phrase[quantity.end() :]
    phrase = re.sub(r"\b(?:each|every)\b", "the", phrase)  # "a stapler on each desk": on any desk
    found = grounder.resolve(phrase, slot.kinds).candidates
    for kind in slot.kinds:  # objects before furniture of the same name
        of_kind = [c for c in found if grounder.graph.objects[c].kind == kind]
        if of_kind:
            found = of_kind
            break
    if len(found) < 2 or (wanted is not None and len(found) != wanted):
        return [replace(slot, phrase=phrase)] if quantity is not None else [slot]
    return [Slot(phrase, slot.kinds, resolved=c) for c in found]


def _remark_topic(piece: str, grounder: Grounder) -> str | None:
    """What a later "it" may mean after a remark: the first thing it names that is here ("my daughter
    got that yellow ball ..." -> that yellow ball), else its subject ("I lost my keys": searched for)."""
    only_a_thing = _noun_phrase(piece) and not re.search(r"(?<!\bthat)(?<!\bwhich) (?:is|are|was|were)\b", piece)
    if only_a_thing and len(grounder.resolve(piece, OBJECTS).candidates) == 1:
        return piece  # "the yellow thing that isn't the banana, take it ..."
    subject = STATEMENT_SUBJECT.match(piece) or EXISTENTIAL.match(piece)
    placed = [f"{m['np']} {m['prep']} {m['place']}" for m in REMARK_THING_PLACED.finditer(piece)]
    one_here = next((np for np in placed if len(grounder.resolve(np, OBJECTS).candidates) == 1), None)
    if one_here is not None:  # "I left a cup out in the living room": the one cup there
        return one_here
    named = ([subject["np"]] if subject else []) + [m["np"] for m in REMARK_THING.finditer(piece)]
    here = next((np for np in named if grounder.resolve(np, OBJECTS).candidates), None)
    return here or (named[0] if named else None)


def _with_topic(question: str, remarks: list[str]) -> str:
    """ "I need paper for the printer, where is it?": the question about what the remark names."""
    pronoun = re.search(r"\b(?:it|they|them)\b", question)
    if pronoun is None:
        return question
    for remark in reversed(remarks):
        wanted = WANT.match(normalize(remark))
        topic = wanted["x"] if wanted else next((m["np"] for m in REMARK_THING.finditer(normalize(remark))), None)
        if topic:
            topic = re.sub(r"\s+(?:for|to|so)\b.*$", "", topic)  # "paper for print": what, not what for
            return f"{question[: pronoun.start()]}{topic}{question[pronoun.end() :]}"
    return question


def _excluding(clause: Clause, excluded: str) -> Clause:
    """The clause with the slot that could mean the excluded thing narrowed: "put the sponge on the
    table, not the kitchen table" -> "the table except the kitchen table"."""
    noun = strip_determiners(normalize(excluded)).split()[-1:]
    for index, slot in enumerate(clause.slots):
        if strip_determiners(normalize(slot.phrase)).split()[-1:] == noun:
            slots = list(clause.slots)
            slots[index] = Slot(f"{slot.phrase} except {excluded}", slot.kinds)
            return replace(clause, slots=slots)
    return clause


def _same_noun_again(phrase: str, topic: str) -> bool:
    """ "the blue one" or "that cup" after a remark about a cup: the remark's kind of thing."""
    words, noun = phrase.split(), head_noun(topic)
    if not words or not noun or len(words) > 3:
        return False
    return (words[-1] == "one" and words[0] in DETERMINER_WORDS) or (
        words[0] in ("that", "this", "the same") and singular(words[-1]) == singular(noun)
    )


def _with_noun_of(phrase: str, topic: str) -> str:
    if phrase.rsplit(maxsplit=1)[-1] == "one":
        return phrase_instead(topic, phrase)  # "the blue one" after "the red cup ..."
    return topic  # "that cup": the cup the remark placed


def _only_context(part: str) -> bool:
    """Whether every piece of a stage's text only gives context ("I've lost track since we moved in,
    it's all a blur")."""
    pieces = [normalize(p) for p in _clauses(part)]
    return all(is_context(p) and not QUESTION.match(ASK_ABOUT.sub("", plain_clause(p))) for p in pieces if p)


def _names_things(text: str, grounder: Grounder) -> bool:
    """Whether a piece without a verb names things here ("yellow thing on the dining table",
    "whatever is on the kitchen table"), articles or not."""
    words = set(text.split())
    if words & (CLAUSE_STARTS - {"mug", "cup"}) or not words:
        return False
    text = QUANTITY.sub("", text)  # "both things on the filing shelf"
    if EVERYTHING_THERE.match(text):
        return True
    known = grounder.vocabulary | GENERIC | THING_WORDS | DETERMINER_WORDS | frozenset(CATEGORIES)
    if not all(w in known or singular(w) in known for w in text.split()):
        return False  # "blorp the red cup": a word that names nothing, maybe a verb
    return any(grounder.graph.objects[c].kind == ObjectKind.OBJECT for c in grounder.resolve(text).candidates)


def _only_a_thing(text: str) -> bool:
    """Whether a piece is a noun phrase and nothing more ("the blue one"; not "the lemon needs to go")."""
    words = set(text.split())
    return _noun_phrase(text) and not words & (CLAUSE_STARTS | STATE_VERBS)


def _only_place(text: str, grounder: Grounder) -> bool:
    """Whether a piece is only the name of a piece of furniture or a room ("kitchen table", "the sideboard")."""
    name = strip_determiners(normalize(text))
    if not name or not _only_names(name, grounder.vocabulary):
        return False
    kinds = {grounder.graph.objects[c].kind for c in grounder.resolve(name).candidates}
    return bool(kinds) and kinds <= {ObjectKind.FURNITURE, ObjectKind.ROOM}


def _only_names(text: str, vocabulary: frozenset[str]) -> bool:
    """Whether every word of a piece is a word of the scene's names ("orange juice"), no verb before it."""
    words = TRAILING.sub("", text).split()
    return bool(words) and words[0] not in CLAUSE_STARTS and all(w in vocabulary for w in words)


def _noun_phrase(text: str) -> bool:
    """Whether a piece starts like a noun phrase ("the bowl", "my keys"), not like an instruction."""
    return bool(text) and text.split(maxsplit=1)[0] in DETERMINER_WORDS


def _elided(previous: Clause, phrase: str) -> Clause | None:
    """The previous clause again for another thing ("..., and the bowl too"), or None where it cannot be."""
    if previous.intent == "place":
        return Clause("place", [Slot(phrase, THINGS), previous.slots[-1]])
    if previous.intent in ("find", "look", "go"):
        return Clause(previous.intent, [Slot(phrase, previous.slots[0].kinds)])
    return None  # one hand: "pick up A, and B" cannot end holding both


def _stages(text: str) -> list[str]:
    return [part for part in STAGE_SPLIT.split(text) if part and part.strip()]


def _clauses(text: str) -> list[str]:
    return [part for part in AND_VERB.split(text) if part.strip()]


def _seconds(number: str, unit: str | None) -> str:
    value = float(NUMBERS.get(number, 0) or number)
    if unit and unit.startswith("m"):
        value *= 60
    return f"{value:g}"


def _choose(text: str, candidates: list[str], grounder: Grounder) -> str | None:
    """The one candidate an answer picks, or None when it picks none or several."""
    words = text.split()
    for word, index in ORDINALS.items():
        if word in words and len(candidates) > abs(index) - (index < 0):
            return candidates[index]
    if any(w in words for w in ("either", "any", "whichever")):
        return candidates[0]
    resolution = grounder.resolve(text)
    narrowed = [c for c in candidates if c in resolution.candidates]
    if len(narrowed) == 1:
        return narrowed[0]
    colours = [w for w in words if w in COLORS]
    if colours:
        narrowed = [c for c in candidates if grounder.graph.objects[c].attributes.get("color") in colours]
        if len(narrowed) == 1:
            return narrowed[0]
    # "the one on the counter": the spatial part against each candidate
    match = re.search(r"\b(on|in|near|next to|by|from|at)\s+(.+)$", text)
    if match:
        anchors = grounder.resolve(match[2]).candidates
        narrowed = [c for c in candidates if any(grounder.related(c, a, match[1]) for a in anchors)]
        if len(narrowed) == 1:
            return narrowed[0]
    labels = {singular(w) for w in words}
    narrowed = [c for c in candidates if singular(grounder.graph.objects[c].label.split()[-1]) in labels]
    if len(narrowed) == 1:
        return narrowed[0]
    # What the question told them apart by ("the one with the red mug on it", "the left one"); not
    # in a new command ("put the mug on the table"), which is read as one.
    if re.match(rf"^(?:{VERBS})\b", TRAILING.sub("", POLITE.sub("", text))):
        return None
    told = [set(normalize(d).split()) for d in grounder.distinguishing_descriptions(candidates)]
    own = [t - set().union(*(o for j, o in enumerate(told) if j != i)) for i, t in enumerate(told)]
    narrowed = [c for c, words_of in zip(candidates, own, strict=True) if words_of & set(words)]
    return narrowed[0] if len(narrowed) == 1 else None
