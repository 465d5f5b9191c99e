"""Labelled sentences -> structured elements, deterministically (no model output to copy).

The classifier only says *which* sentences are tasks, judgments or exceptions. Here the quote is
the sentence itself (grounded by construction) and the fields come from simple, documented cues
for Japanese and English: who (a role or person before が / "the X team"), how often (毎月,
"every month"), which system (product names), condition and outcome (「〜場合は」「〜たら」,
"if ..., ..."). Anything not found stays empty, which the follow-up questions then ask about.

Grouping: consecutive sentences of one speaker become one element when the later one continues
the earlier (「これは」「そのときに」, "this is"), when the earlier is a clause cut off by a segment
boundary, or when both are judgments or both exceptions (a rule is told in several sentences:
its other branch, who decides, "it depends"). Checks on the model's label (``relabel``): a
count or a frequency alone (「月に2回くらいです」, "That happens twice a quarter") and a question
the interviewee asks aloud are never elements; a "judgment" that only describes an approval
act, with no condition, is a task.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .align import ground
from .diagnose import CUES
from .models import (
    AnyElement,
    CriterionStatus,
    Evidence,
    Exception_,
    FindingKind,
    Judgment,
    RuleRow,
    Task,
    Transcript,
)

if TYPE_CHECKING:
    from .extract import Unit

# a sentence starting like this elaborates the previous element instead of stating a new one
_CONTINUATION = re.compile(
    r"^(ただ、|でも、)?(あと、|また、|これは|それは|それも|その際|そのときに?、|その時に?、|なお、)|"
    r"^(?:but\s+)?(also|this is|this was|that is|that's|that was)\b",
    re.I,
)
# an elliptical condition refers back to the rule just stated (「超えた場合は」, "above that"):
# another row of the same judgment, not a new element
# a Japanese clause cut off by a segment boundary: it ends on a particle or te-form, not on a
# sentence end (Whisper often splits 「5万円を超える場合は / 部長の承認が必要です」)
_UNFINISHED = re.compile(r"(?:は|が|を|に|と|て|って|ので|から|けど|けれど|ば|たら|なら|、|,)\s*$")

_ELLIPTICAL = re.compile(
    r"^(超えた|超える|それ以外|それを超|上回|下回|未満の|以上の|以下の)|"
    r"^(otherwise|above that|below that|if (?:it's|it is) (?:over|above|under|below|more|less))",
    re.I,
)
# a judgment states a condition, a threshold or says there is none; a sentence without one that
# describes an approval act (「最後に課長が確認して承認します」) is a task: who approves is a step
_RULE_CUE = re.compile(
    r"場合|たら|なら|れば|ときは|時は|以上|以下|超え|超過|未満|まで|次第|かどうか|によって|"
    r"\b(?:if|unless|when|whether|over|above|under|below|more than|less than|at least|up to|"
    r"depends|threshold|limit)\b",
    re.I,
)
_APPROVAL_ACT = re.compile(
    r"(承認|確認|決裁|チェック)(し)?(します|しています|してます|ます)|"
    r"\b(?:approves|signs off|signs it off|reviews (?:it|them|the))\b",
    re.I,
)
# a count or frequency alone (「10件くらいは来ます」, "Maybe thirty a month") is context
_VOLUME_ONLY = re.compile(
    r"^[^。]{0,8}?[0-9０-９一二三四五六七八九十百数]+[、,〜~-]?[0-9０-９一二三四五六七八九十]*\s*"
    r"(件|回|人|枚|時間|日)[^。]{0,10}$|"
    r"^(?:maybe |about |around |roughly )?(?:\d+|a few|several|one|two|three|four|five|ten|"
    r"twenty|thirty|forty|fifty|a hundred)\b(?:\s+\w+){0,2}\s+(?:a|per|each)\s+"
    r"(?:day|week|month|year)(?: or so)?\.?$",
    re.I,
)
# an interviewer's question about an irregular case: what is done then is exception handling
_IRREGULAR_QUESTION = re.compile(
    r"(場合|とき|時)(は|に|って)?[^。？?]{0,12}(どう|何を|どのように)|"
    r"(遅れ|なくし|無くし|失くし|間違|違って|足りな|漏れ|過ぎて|届かな|合わな)[^。？?]{0,16}"
    r"(どう|ことは|場合)|"
    r"\bwhat (?:happens|do you do) (?:when|if)\b|\bwhat if\b|\bhow do you handle\b",
    re.I,
)
# "That happens maybe twice a quarter" / 「年に数回ありますね」: how often, not what is done
_FREQUENCY_ONLY = re.compile(
    r"^(?:それは|これは|そういうのは)?[^。、]{0,6}?(?:年|月|週|日)に(?:[0-9０-９一二三四五六七八九十]+|数)"
    r"(?:回|件)(?:くらい|ぐらい|ほど|程度)?(?:です|あります|ありますね|ですね|かな)?$|"
    r"^(?:that|this|it)(?: only)? happens(?: about| maybe| roughly| around)?\b[^.]{0,40}"
    r"\b(?:times?|once|twice)\b[^.]{0,20}$",
    re.I,
)
# a question the interviewee asks aloud ("What counts as small?") is not a statement of the work
_QUESTION = re.compile(r"[?？]\s*$")
_LEADING = re.compile(
    r"^(?:(?:はい|ええ|えーと|えっと|えー|あのー|あの|まあ|うーん|あー|そうですね|で|あと|"
    r"そのあと|それから|ただ|まず|で、まず)[、。,\s]*)+"
    r"|^(?:(?:so|well|um|uh|yes|yeah|okay|ok|right|and then|then|and)[,.]?\s+)+",
    re.I,
)
_ROLE_JA = re.compile(
    r"([一-龥ァ-ヶー]{1,8}(?:長|担当|部|課|者|員|さん|チーム)|経理の私|私たち|私)(?:が|は)"
)
_ROLE_EN = re.compile(
    r"\b((?:the|our)\s+(?:[a-z]+\s+)?(?:team|manager|controller|accountant|clerk|lead|"
    r"department|cfo|director)|[A-Z][a-z]+|I|we)\s+(?:check|enter|send|post|prepare|approve|"
    r"review|run|reconcile|book|update|create|file|print|upload|download|export|import|sign|"
    r"has to|have to|must|will|then|also|usually|always)",
)
_PERSON = re.compile(
    r"([一-龥ァ-ヶー]{1,6}さん)|\b([A-Z][a-z]+)(?:'s)?\b(?= (?:knows|handles|does))"
)
_FREQ = re.compile(
    r"(毎朝|毎晩|毎日|毎週|毎月|毎年|月末|月初|月に[一二三四五0-9０-９]+回|週に[一二三0-9]+回|"
    r"年に(?:数|[一二三0-9]+)回|日次|月次|四半期|その都度|都度|"
    r"every (?:day|morning|week|month|quarter|year)|daily|weekly|monthly|quarterly|"
    r"each (?:day|week|month|quarter)|once a (?:day|week|month|year))",
    re.I,
)
_SYSTEM_WORDS = (
    "楽楽精算",
    "freee",
    "kintone",
    "SAP",
    "Excel",
    "NetSuite",
    "Salesforce",
    "Stripe",
    "Slack",
    "Outlook",
    "Teams",
    "SharePoint",
    "弥生",
    "勘定奉行",
    "マネーフォワード",
    "ネットバンキング",
    "会計システム",
    "共有フォルダ",
    "CSV",
    "PDF",
    "FAX",
    "メール",
    "email",
    "QuickBooks",
    "Xero",
)
# what a task works from and what it produces: documents and data named next to a verb
_DOC_JA = (
    r"([一-龥ァ-ヶーA-Za-z]{0,8}(?:書|票|データ|一覧|表|明細|リスト|ファイル|伝票|報告|レポート|"
    r"CSV|PDF|メール|注文|申請|資料|仕訳|控え))"
)
_OUTPUT_JA = re.compile(
    _DOC_JA + r"を[^。、]{0,8}?(?:作成|作っ|作り|作る|作ります|出し|出す|発行|起こ|印刷|提出|送)"
)
_INPUT_JA = re.compile(
    _DOC_JA + r"(?:を|と|が|の)[^。]{0,20}?(?:確認|照合|入力|取り込|取込|受け取|受領|スキャン|"
    r"チェック|開い|届|来|見て|転記)"
)
_DOC_EN = (
    r"((?:[a-z-]+ ){0,3}?(?:statements?|invoices?|orders?|reports?|receipts?|balances?|"
    r"schedule|list|file|data|journal|analysis|notes?|requests?|forms?|spreadsheet|emails?|"
    r"purchase orders|trial balance))\b"
)
_INPUT_EN = re.compile(
    r"\b(?:download|receive|get|open|check|review|go through|reconcile|scan|match|compare|"
    r"read|pull)s?\s+(?:the |our |all |every |each |their |a |an )?" + _DOC_EN,
    re.I,
)
_OUTPUT_EN = re.compile(
    r"\b(?:prepare|create|issue|send|post|produce|print|generate|export|file|write|book)s?\s+"
    r"(?:the |our |a |an |all )?" + _DOC_EN,
    re.I,
)
_CONDITION_JA = re.compile(
    r"^(.{2,60}?(?:場合は|場合、|場合|ときは|時は|ときに|なら|たら|れば))、?(.+)$"
)
_CONDITION_EN = re.compile(r"^(?:(if|when|whenever|once|unless)\s+(.+?)),\s*(.+)$", re.I)
_CONDITION_EN_TAIL = re.compile(r"^(.+?)\s+(if|when|unless)\s+(.+)$", re.I)
_ABSENT = CUES[FindingKind.JUDGMENT_WITHOUT_RULE]
_UNSTATED = re.compile(
    r"前回と同じ|前回通り|前例|過去の[^。]{0,10}(検索|参考|見て)|しか(分から|わから|知ら)|特殊|"
    r"like last (?:time|month|year)|same as last|only [A-Z][a-z]+ (?:knows|understands)|"
    r"the way (?:we|it) always",
    re.I,
)
_DECIDER_JA = re.compile(
    r"([一-龥ァ-ヶー]{1,8}(?:長|担当|さん|部|者))(?:の承認|が承認|が判断|が決め|の決裁)"
)
_DECIDER_EN = re.compile(
    r"\b((?:the\s+)?(?:[A-Z]{2,4}|[a-z]+ (?:lead|manager|controller)|[A-Z][a-z]+))\s+"
    r"(?:has to |must |needs to |will )?(?:approve|sign|decide)",
)
_ROUTINE = re.compile(
    r"毎月|毎週|毎回|毎日|いつも|しょっちゅう|日常的|every (?:month|week|time|day)|each month|"
    r"all the time|always",
    re.I,
)


def summarise(text: str) -> str:
    s = _LEADING.sub("", text.strip()).strip()
    s = s.rstrip("。.！!？?")
    return s or text.strip()


def _actor(text: str) -> str:
    m = _ROLE_JA.search(text)
    if m:
        return m.group(1).replace("経理の私", "経理担当")
    m = _ROLE_EN.search(text)
    if m:
        return m.group(1)
    return ""


def _systems(text: str) -> list[str]:
    low = text.lower()
    return [w for w in _SYSTEM_WORDS if w.lower() in low]


def _inputs_outputs(text: str) -> tuple[list[str], list[str]]:
    """Documents or data the sentence says a step works from / produces (may be empty)."""

    def found(pattern: re.Pattern[str]) -> list[str]:
        out: list[str] = []
        for m in pattern.finditer(text):
            name = m.group(1).strip()
            name = re.sub(r"^(?:the|our|a|an|all|every|each)\s+", "", name, flags=re.I)
            if len(name) >= 2 and name not in out:
                out.append(name)
        return out

    outputs = found(_OUTPUT_JA) + found(_OUTPUT_EN)
    inputs = [x for x in found(_INPUT_JA) + found(_INPUT_EN) if x not in outputs]
    return inputs, outputs


def _frequency(text: str) -> str:
    m = _FREQ.search(text)
    return m.group(1) if m else ""


def _condition(text: str) -> tuple[str, str]:
    s = summarise(text)
    m = _CONDITION_JA.match(s)
    if m:
        return re.sub(r"(場合は|場合、|場合|ときは|時は|ときに)$", "", m.group(1)), m.group(2)
    m = _CONDITION_EN.match(s)
    if m:
        return m.group(2), m.group(3)
    m = _CONDITION_EN_TAIL.match(s)
    if m and len(m.group(3)) > 3:
        return m.group(3), m.group(1)
    return "", ""


def _decider(text: str) -> str:
    m = _DECIDER_JA.search(text) or _DECIDER_EN.search(text)
    return m.group(1) if m else ""


def _owner(text: str) -> str:
    m = _PERSON.search(text)
    if m:
        return m.group(1) or m.group(2)
    return _actor(text)


def make_element(
    label: str, text: str, evidence: Evidence, iid: str, chunk: int, actor: str, context: str
) -> AnyElement:
    summary = summarise(text)
    common = {
        "interview_id": iid,
        "summary": summary,
        "evidence": [evidence],
        "source_chunk": chunk,
    }
    if label == "task":
        inputs, outputs = _inputs_outputs(text)
        return Task(
            action=summary,
            actor=_actor(text) or actor,
            inputs=inputs,
            outputs=outputs,
            systems=_systems(text),
            frequency=_frequency(text),
            **common,  # type: ignore[arg-type]
        )
    if label == "judgment":
        cond, outcome = _condition(text)
        if _ABSENT.search(text):
            criterion = CriterionStatus.ABSENT
        elif _UNSTATED.search(text) or not cond:
            criterion = CriterionStatus.UNSTATED
        else:
            criterion = CriterionStatus.STATED
        rules = [RuleRow(condition=cond, outcome=outcome)] if cond else []
        return Judgment(
            decision=summary,
            rules=rules,
            decider=_decider(text),
            criterion=criterion,
            **common,  # type: ignore[arg-type]
        )
    trigger, handling = _condition(text)
    return Exception_(
        trigger=trigger or summary,
        handling=handling,
        owner=_owner(text),
        frequency=_frequency(context) if _ROUTINE.search(context) else _frequency(text),
        is_routine=bool(_ROUTINE.search(context)),
        **common,  # type: ignore[arg-type]
    )


def build_elements(
    units: list[Unit],
    done: list[Unit],
    transcript: Transcript,
    default_actor: str = "",
    chunk_size: int = 8,
) -> list[AnyElement]:
    """One element per labelled sentence; continuations are folded into the previous element."""
    done_ids = {u.index for u in done}
    groups: list[list[Unit]] = []
    for unit in units:
        if unit.index not in done_ids or unit.label == "none":
            continue
        unit.label = relabel(unit.label, unit.text)
        if unit.label == "none":
            continue
        prev = groups[-1][-1] if groups else None
        if (
            unit.label == "task"
            and _IRREGULAR_QUESTION.search(unit.question)
            and not (groups and groups[-1][-1].question == unit.question)
        ):
            # the first step told in answer to "what if ... goes wrong?" is how the exception
            # is handled
            unit.label = "exception"
        if (
            prev is not None
            and prev.index == unit.index - 1
            and prev.segment.speaker == unit.segment.speaker
            and (
                _CONTINUATION.search(summarise_head(unit.text))
                or _UNFINISHED.search(prev.text)
                or (
                    groups[-1][0].label == "judgment"
                    and unit.label in ("judgment", "exception")
                    and _ELLIPTICAL.search(summarise_head(unit.text))
                )
                # a rule or an irregular case is usually told in several sentences in a row
                # (the other branch, who decides, "it depends"): one element, not several
                or (unit.label == groups[-1][-1].label and unit.label in ("judgment", "exception"))
            )
        ):
            groups[-1].append(unit)
            continue
        groups.append([unit])
    text = transcript.text
    out: list[AnyElement] = []
    for group in groups:
        first, last = group[0], group[-1]
        quote = text[first.start : last.end]
        ev = ground(quote, transcript, near=first.start)
        turn = [u.text for u in units if u.segment.id == first.segment.id]
        element = make_element(
            first.label,
            quote,
            ev,
            transcript.interview_id,
            first.index // chunk_size,
            default_actor
            or (
                first.segment.speaker
                if first.segment.speaker not in ("", "interviewee", "author")
                else ""
            ),
            " ".join(turn),
        )
        known = [u.confidence for u in group if u.confidence is not None]
        element.confidence = round(min(known), 3) if known else None
        out.append(element)
    return out


def relabel(label: str, text: str) -> str:
    """Deterministic checks on the model's label (documented in the module docstring)."""
    core = summarise(text)
    if _VOLUME_ONLY.search(core) or _FREQUENCY_ONLY.search(core) or _QUESTION.search(text):
        return "none"
    if (
        label == "judgment"
        and _APPROVAL_ACT.search(text)
        and not (_RULE_CUE.search(text) or _ABSENT.search(text) or _UNSTATED.search(text))
    ):
        return "task"
    return label


def summarise_head(text: str) -> str:
    """The sentence with fillers (えーと, "well") removed but connectors kept."""
    return re.sub(
        r"^(?:(?:えーと|えっと|えー|あのー|あの|まあ|うーん|あー|um|uh|well)[、,\s]*)+",
        "",
        text.strip(),
        flags=re.I,
    )
