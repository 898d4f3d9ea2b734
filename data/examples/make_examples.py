"""Write the example exports under data/examples/ (run from the repository root).

Each folder is a program's data as its tools export them, with the mapping.toml that turns
them into the program tables: redcap/, qualtrics/, surveymonkey/ and google-forms/ (youth and
baseline surveys from one export each) and own-program/ (all four kinds together, plus staff
spreadsheets for mentors and matches; no meetings or mentor surveys). The people are simulated
by tim_research.synth (seeded, so the files are the same on every run); the layouts are those
of the real exports. tests/test_mapping.py checks that this script reproduces the files.

    python data/examples/make_examples.py [OUT_FOLDER]
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tim_research import synth
from tim_research.instruments import load_instrument
from tim_research.program.init import init_program

SITES = {"North": "Northside", "South": "Southbank", "East": "Eastgate", "West": "Westfield"}
RACE = {
    "Black": "Black or African American",
    "Hispanic or Latino": "Hispanic or Latino/a/x",
    "White": "White",
    "Asian": "Asian",
    "American Indian or Alaska Native": "American Indian or Alaska Native",
    "Multiracial": "Two or more races",
    "Another race or ethnicity": "Another race or ethnicity",
}
REFERRAL = {
    "school": "School counsellor",
    "family": "Parent or caregiver",
    "child welfare": "Child welfare caseworker",
    "juvenile justice": "Probation officer",
    "health or mental health provider": "Health or mental health provider",
    "community organisation": "Community organisation",
}
GENDER = {"girl": "Girl", "boy": "Boy", "another gender": "Another gender"}
ACE = [
    "A parent or adult often swore at me, insulted me or put me down",
    "A parent or adult often pushed, grabbed, slapped or hit me",
    "An adult touched me sexually or tried to",
    "I often felt no one in my family loved me or thought I was special",
    "I often did not have enough to eat or clean clothes",
    "My parents separated or divorced",
    "An adult in my home was hurt or threatened with violence",
    "I lived with someone who had a problem with drinking or drugs",
    "I lived with someone who was depressed or mentally ill",
    "Someone in my household went to prison",
]
BRS = [
    "I tend to bounce back quickly after hard times",
    "I have a hard time making it through stressful events",
    "It does not take me long to recover from a stressful event",
    "It is hard for me to snap back when something bad happens",
    "I usually come through difficult times with little trouble",
    "I tend to take a long time to get over set-backs in my life",
]
BRS_LABELS = dict(zip((1, 2, 3, 4, 5), load_instrument("brs").response_sets["agree5"].labels))
CYRM_LABELS = dict(
    zip((1, 2, 3, 4, 5), load_instrument("cyrm_r").response_sets["five_point"].labels)
)
CYRM = [f"CYRM-R statement {i}" for i in range(1, 18)]  # item wording is not shipped
NONE, DECLINE = "None of these", "I'd rather not say"


def _write(path: Path, rows: list[list[object]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(
        [["" if v is None or v is pd.NA or v != v else str(v) for v in r] for r in rows]
    )
    path.write_text(buf.getvalue(), encoding="utf-8", newline="\n")


def _v(x: object) -> object:
    return None if x is None or pd.isna(x) else x


def _stamp(date: pd.Timestamp, rng: np.random.Generator) -> pd.Timestamp:
    return date + pd.Timedelta(seconds=int(rng.integers(9 * 3600, 18 * 3600)))


def _baseline(p: synth.Program) -> pd.DataFrame:
    s = p.surveys[(p.surveys["wave"] == "baseline") & (p.surveys["status"] == "completed")]
    return p.youth.merge(s, on="youth_id", how="inner")


def _ace_ticked(row: pd.Series) -> list[str]:
    """Ticked options of a multi-select ACE question (partly answered rows count missing as 0)."""
    items = [row[f"ace10_{k}"] for k in range(1, 11)]
    if all(pd.isna(v) for v in items):
        return []
    ticked = [ACE[k] for k, v in enumerate(items) if not pd.isna(v) and v == 1]
    return ticked or [NONE]


def _package(folder: Path, p: synth.Program, tables: list[str]) -> None:
    """datapackage.json for the tables the program has (tim init, then drop the others)."""
    tmp = folder.parent / f".{folder.name}.init"
    init_program(
        tmp,
        sites=list(SITES.values()),
        cutoff=str(p.cutoff.date()),
        name=f"example-{folder.name}",
        title=f"Example program ({folder.name})",
    )
    package = json.loads((tmp / "datapackage.json").read_text(encoding="utf-8"))
    package["resources"] = [r for r in package["resources"] if r["name"] in tables]
    (folder / "datapackage.json").write_text(
        json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n"
    )
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()


def _youth_mapping(table: str, cols: dict[str, str], codes: dict[str, dict]) -> str:
    out = [f"[{table}.columns]"] + [f'{k} = "{v}"' for k, v in cols.items()]
    for col, table_codes in codes.items():
        out += ["", f"[{table}.codes.{col}]"]
        for label, code in table_codes.items():
            value = json.dumps(code) if not isinstance(code, bool) else str(code).lower()
            out.append(f"{json.dumps(label)} = {value}")
    return "\n".join(out) + "\n"


def _labels_codes() -> dict[str, dict]:
    return {
        "site": {v: k for k, v in SITES.items()} | {v: v for v in ()},
        "gender": {v: k for k, v in GENDER.items()},
        "race_ethnicity": {v: k for k, v in RACE.items()},
        "referral_source": {v: k for k, v in REFERRAL.items()},
    }


# --------------------------------------------------------------------------- REDCap


def redcap(folder: Path, p: synth.Program, *, with_surveys: bool) -> str:
    """intake_records.csv + intake_dictionary.csv (raw export); returns the mapping blocks."""
    choices = lambda d: " | ".join(f"{c}, {lab}" for c, lab in d.items())  # noqa: E731
    site_codes = {str(i): v for i, v in enumerate(SITES.values(), 1)}
    gender_codes = {"1": "Girl", "2": "Boy", "3": "Another gender", "9": "Prefer not to say"}
    race_codes = {str(i): v for i, v in enumerate(RACE.values(), 1)}
    ref_codes = {str(i): v for i, v in enumerate(REFERRAL.values(), 1)}
    meta = [
        ["record_id", "intake", "text", "Youth code", "", ""],
        ["site", "intake", "radio", "Program site", choices(site_codes), ""],
        ["age", "intake", "text", "Age at intake", "", "integer"],
        ["gender", "intake", "radio", "Gender", choices(gender_codes), ""],
        ["race", "intake", "radio", "Race / ethnicity", choices(race_codes), ""],
        ["referral", "intake", "dropdown", "Referred by", choices(ref_codes), ""],
        ["intake_date", "intake", "text", "Intake date", "", "date_mdy"],
        ["waitlist", "intake", "yesno", "On the waitlist (comparison group)?", "", ""],
    ]
    if with_surveys:
        ace = {str(k): lab for k, lab in enumerate(ACE, 1)} | {"99": DECLINE}
        meta.append(["aces", "youth_survey", "checkbox", "Before age 18...", choices(ace), ""])
        brs = {str(c): lab for c, lab in BRS_LABELS.items()}
        meta += [
            [f"brs_q{k}", "youth_survey", "radio", text, choices(brs), ""]
            for k, text in enumerate(BRS, 1)
        ]
    header = [
        "Variable / Field Name",
        "Form Name",
        "Field Type",
        "Field Label",
        "Choices, Calculations, OR Slider Labels",
        "Text Validation Type OR Show Slider Number",
    ]
    _write(folder / "intake_dictionary.csv", [header, *meta])
    inv = lambda d: {v: k for k, v in d.items()}  # noqa: E731
    y = _baseline(p) if with_surveys else p.youth
    cols = [m[0] for m in meta if m[2] != "checkbox"]
    if with_surveys:
        cols = cols[:8] + [f"aces___{k}" for k in [*range(1, 11), 99]] + cols[8:]
    cols += ["intake_complete"] + (["youth_survey_complete"] if with_surveys else [])
    rows = []
    for _, r in y.iterrows():
        g = GENDER.get(_v(r["gender"])) if _v(r["gender"]) else "Prefer not to say"
        row = {
            "record_id": r["youth_id"],
            "site": inv(site_codes)[SITES[r["site"]]],
            "age": r["age"],
            "gender": inv(gender_codes)[g],
            "race": inv(race_codes)[RACE[r["race_ethnicity"]]] if _v(r["race_ethnicity"]) else "",
            "referral": inv(ref_codes)[REFERRAL[r["referral_source"]]],
            "intake_date": r["enrolment_date"].strftime("%Y-%m-%d"),
            "waitlist": int(bool(r["comparison"])),
            "intake_complete": 2,
        }
        if with_surveys:
            ticked = _ace_ticked(r)
            for k in range(1, 11):
                row[f"aces___{k}"] = int(ACE[k - 1] in ticked)
            row["aces___99"] = int(not ticked)  # nothing ticked: recorded as declined here
            for k in range(1, 7):
                row[f"brs_q{k}"] = _v(r[f"brs_{k}"])
            row["youth_survey_complete"] = 2
        rows.append([row[c] for c in cols])
    _write(folder / "intake_records.csv", [cols, *rows])
    youth_cols = {
        "youth_id": "record_id",
        "site": "site",
        "age": "age",
        "gender": "gender",
        "race_ethnicity": "race",
        "referral_source": "referral",
        "enrolment_date": "intake_date",
        "comparison": "waitlist",
    }
    codes = {
        "site": {c: k for k, v in SITES.items() for c, lab in site_codes.items() if lab == v},
        "gender": {c: k for c, lab in gender_codes.items() for k, v in GENDER.items() if v == lab}
        | {"9": ""},
        "race_ethnicity": {
            c: k for c, lab in race_codes.items() for k, v in RACE.items() if v == lab
        },
        "referral_source": {
            c: k for c, lab in ref_codes.items() for k, v in REFERRAL.items() if v == lab
        },
        "comparison": {"1": True, "0": False},
    }
    codes["site"] = {c: SITES[k] for c, k in codes["site"].items()}
    text = (
        "# youth: the REDCap intake form (raw export: choice codes; see intake_dictionary.csv)\n"
        '[youth]\nfile = "intake_records.csv"\nformat = "redcap"\n'
        'dictionary = "intake_dictionary.csv"\n\n' + _youth_mapping("youth", youth_cols, codes)
    )
    if with_surveys:
        text += (
            "\n# surveys: the youth survey form of the same REDCap project, at intake\n"
            '[[surveys]]\nfile = "intake_records.csv"\nformat = "redcap"\n'
            'dictionary = "intake_dictionary.csv"\nempty = ["cyrm_r"]\n\n'
            "[surveys.checkboxes.aces]    # ticking 99 (rather not say): ACE items missing\n"
            'opt_out = ["99"]\n\n[surveys.columns]\nyouth_id = "record_id"\n'
            'survey_date = "intake_date"\n'
            + "".join(f'ace10_{k} = "aces___{k}"\n' for k in range(1, 11))
            + "".join(f'brs_{k} = "brs_q{k}"\n' for k in range(1, 7))
            + '\n[surveys.set]\nwave = "baseline"\nmonths = 0\nstatus = "completed"\n'
        )
    return text


# --------------------------------------------------------------------------- Qualtrics

QUALTRICS_META = [
    ("StartDate", "Start Date", "startDate"),
    ("EndDate", "End Date", "endDate"),
    ("Status", "Response Type", "status"),
    ("IPAddress", "IP Address", "ipAddress"),
    ("Progress", "Progress", "progress"),
    ("Duration (in seconds)", "Duration (in seconds)", "duration"),
    ("Finished", "Finished", "finished"),
    ("RecordedDate", "Recorded Date", "recordedDate"),
    ("ResponseId", "Response ID", "_recordId"),
    ("DistributionChannel", "Distribution Channel", "distributionChannel"),
    ("UserLanguage", "User Language", "userLanguage"),
]


def qualtrics(
    folder: Path, p: synth.Program, name: str, *, youth: bool, cyrm: bool, rng: np.random.Generator
) -> str:
    """A Qualtrics baseline survey (choice text); returns the mapping blocks."""
    qs: list[tuple[str, str]] = [("Q1", "Your youth code (from your mentor)")]
    if youth:
        qs += [
            ("Q2", "Which site do you go to?"),
            ("Q3", "How old are you?"),
            ("Q4", "What is your gender?"),
            ("Q5", "Which best describes you?"),
            ("Q6", "Who referred you?"),
            ("Q7", "Waitlist group (staff only)"),
        ]
    qs += [(f"Q8_{k}", f"Before you turned 18... - {t}") for k, t in enumerate(ACE, 1)]
    qs += [(f"Q9_{k}", f"How much do you agree? - {t}") for k, t in enumerate(BRS, 1)]
    if cyrm:
        qs += [(f"Q10_{k}", f"How much is this like you? - {t}") for k, t in enumerate(CYRM, 1)]
    header = [m[0] for m in QUALTRICS_META] + [q for q, _ in qs]
    texts = [m[1] for m in QUALTRICS_META] + [t for _, t in qs]
    ids = [json.dumps({"ImportId": m[2]}, separators=(",", ":")) for m in QUALTRICS_META]
    ids += [json.dumps({"ImportId": "QID" + q[1:].replace("_", "_")}) for q, _ in qs]
    rows = [header, texts, ids]
    for n, (_, r) in enumerate(_baseline(p).iterrows()):
        end = _stamp(r["survey_date"], rng)
        start = end - pd.Timedelta(seconds=int(rng.integers(300, 900)))
        meta = [
            start.strftime("%Y-%m-%d %H:%M:%S"),
            end.strftime("%Y-%m-%d %H:%M:%S"),
            "IP Address",
            "",
            100,
            int((end - start).total_seconds()),
            "True",
            end.strftime("%Y-%m-%d %H:%M:%S"),
            f"R_{n + 1:04d}qX",
            "anonymous",
            "EN",
        ]
        answers: list[object] = [r["youth_id"]]
        if youth:
            answers += [
                SITES[r["site"]],
                r["age"],
                GENDER.get(_v(r["gender"]), "Prefer not to say")
                if _v(r["gender"])
                else "Prefer not to say",
                RACE.get(_v(r["race_ethnicity"]), ""),
                REFERRAL[r["referral_source"]],
                "Yes" if r["comparison"] else "No",
            ]
        answers += [{0: "No", 1: "Yes"}.get(_v(r[f"ace10_{k}"]), "") for k in range(1, 11)]
        answers += [BRS_LABELS.get(_v(r[f"brs_{k}"]), "") for k in range(1, 7)]
        if cyrm:
            answers += [CYRM_LABELS.get(_v(r[f"cyrm_r_{k}"]), "") for k in range(1, 18)]
        rows.append(meta + answers)
    _write(folder / name, rows)
    text = ""
    if youth:
        codes = _labels_codes()
        codes["site"] = {v: v for v in SITES.values()}
        codes["comparison"] = {"Yes": True, "No": False}
        text += (
            f"# youth: the first questions of the Qualtrics survey (choice text)\n"
            f'[youth]\nfile = "{name}"\nformat = "qualtrics"\nmissing = ["Prefer not to say"]\n\n'
            + _youth_mapping(
                "youth",
                {
                    "youth_id": "Q1",
                    "site": "Q2",
                    "age": "Q3",
                    "gender": "Q4",
                    "race_ethnicity": "Q5",
                    "referral_source": "Q6",
                    "enrolment_date": "RecordedDate",
                    "comparison": "Q7",
                },
                codes,
            )
            + '\n[youth.dates]\nenrolment_date = "%Y-%m-%d %H:%M:%S"\n\n'
        )
    text += (
        "# surveys at baseline: Qualtrics export with choice text\n"
        f'[[surveys]]\nfile = "{name}"\nformat = "qualtrics"\n'
        + ("" if cyrm else 'empty = ["cyrm_r"]\n')
        + '\n[surveys.columns]\nyouth_id = "Q1"\nsurvey_date = "RecordedDate"\n'
        + "".join(f'ace10_{k} = "Q8_{k}"\n' for k in range(1, 11))
        + "".join(f'brs_{k} = "Q9_{k}"\n' for k in range(1, 7))
        + ("".join(f'cyrm_r_{k} = "Q10_{k}"\n' for k in range(1, 18)) if cyrm else "")
        + '\n[surveys.set]\nwave = "baseline"\nmonths = 0\nstatus = "completed"\n'
        + '\n[surveys.codes.ace10]\n"No" = 0\n"Yes" = 1\n'
        + "\n[surveys.codes.brs]\n"
        + "".join(f'"{lab}" = {c}\n' for c, lab in BRS_LABELS.items())
        + (
            "\n[surveys.codes.cyrm_r]\n"
            + "".join(f'"{lab}" = {c}\n' for c, lab in CYRM_LABELS.items())
            if cyrm
            else ""
        )
        + '\n[surveys.dates]\nsurvey_date = "%Y-%m-%d %H:%M:%S"\n'
    )
    return text


# --------------------------------------------------------------------------- SurveyMonkey

SM_META = [
    "Respondent ID",
    "Collector ID",
    "Start Date",
    "End Date",
    "IP Address",
    "Email Address",
    "First Name",
    "Last Name",
    "Custom Data 1",
]
SM_ACE_Q = "Before you turned 18, did any of these happen to you? (tick all that apply)"
SM_BRS_Q = "How much do you agree with each statement?"
SM_CYRM_Q = "How much is each statement like you?"


def surveymonkey(
    folder: Path, p: synth.Program, name: str, *, wave: str, rng: np.random.Generator
) -> str:
    """A SurveyMonkey survey: ACE (baseline) as one column per option, BRS/CYRM-R matrices."""
    s = p.surveys[(p.surveys["wave"] == wave) & (p.surveys["status"] == "completed")]
    ace = wave == "baseline"
    q1 = SM_META + ["What is your youth code?"]
    q2 = [""] * len(SM_META) + ["Open-Ended Response"]
    if ace:
        opts = [*ACE, NONE, DECLINE]
        q1 += [SM_ACE_Q] + [""] * (len(opts) - 1)
        q2 += opts
    q1 += [SM_BRS_Q] + [""] * 5
    q2 += BRS
    q1 += [SM_CYRM_Q] + [""] * 16
    q2 += CYRM
    rows = [q1, q2]
    for n, (_, r) in enumerate(s.iterrows()):
        end = _stamp(r["survey_date"], rng)
        start = end - pd.Timedelta(seconds=int(rng.integers(300, 900)))
        row: list[object] = [
            11400000000 + 7 * n,
            431000001,
            start.strftime("%m/%d/%Y %I:%M:%S %p"),
            end.strftime("%m/%d/%Y %I:%M:%S %p"),
            "",
            "",
            "",
            "",
            "",
            r["youth_id"],
        ]
        if ace:
            ticked = _ace_ticked(r)
            row += [o if o in ticked else "" for o in opts]
        row += [BRS_LABELS.get(_v(r[f"brs_{k}"]), "") for k in range(1, 7)]
        row += [CYRM_LABELS.get(_v(r[f"cyrm_r_{k}"]), "") for k in range(1, 18)]
        rows.append(row)
    _write(folder / name, rows)
    months = {"baseline": 0, "6m": 6, "12m": 12}[wave]
    text = (
        f"# surveys at {wave}: SurveyMonkey export (two header rows; a matrix question has a\n"
        '# column per statement, named "question | statement")\n'
        f'[[surveys]]\nfile = "{name}"\nformat = "surveymonkey"\n'
        + ("" if ace else 'empty = ["ace10"]\n')
        + '\n[surveys.columns]\nyouth_id = "What is your youth code?"\nsurvey_date = "End Date"\n'
        + "".join(f'brs_{k} = "{SM_BRS_Q} | {t}"\n' for k, t in enumerate(BRS, 1))
        + "".join(f'cyrm_r_{k} = "{SM_CYRM_Q} | {t}"\n' for k, t in enumerate(CYRM, 1))
        + f'\n[surveys.set]\nwave = "{wave}"\nmonths = {months}\nstatus = "completed"\n'
        + "\n[surveys.codes.brs]\n"
        + "".join(f'"{lab}" = {c}\n' for c, lab in BRS_LABELS.items())
        + "\n[surveys.codes.cyrm_r]\n"
        + "".join(f'"{lab}" = {c}\n' for c, lab in CYRM_LABELS.items())
        + '\n[surveys.dates]\nsurvey_date = "%m/%d/%Y %I:%M:%S %p"\n'
    )
    if ace:
        text += (
            "\n# one column per option; a ticked option holds its text\n"
            f'[[surveys.multiselect]]\nquestion = "{SM_ACE_Q}"\n'
            f'none = "{NONE}"\ndecline = "{DECLINE}"\n[surveys.multiselect.options]\n'
            + "".join(f'"{t}" = "ace10_{k}"\n' for k, t in enumerate(ACE, 1))
        )
    return text


# --------------------------------------------------------------------------- Google Forms

GF_ACE_Q = "Before you turned 18, did any of these happen to you?"
GF_LABELS = {c: f"{c} - {lab}" for c, lab in BRS_LABELS.items()}


def google_form(
    folder: Path, p: synth.Program, name: str, *, wave: str, youth: bool, rng: np.random.Generator
) -> str:
    """A Google Forms download: Timestamp, then one column per question (its text)."""
    if wave == "baseline":
        s = _baseline(p)
    else:
        s = p.surveys[(p.surveys["wave"] == wave) & (p.surveys["status"] == "completed")]
    header = ["Timestamp", "Youth code"]
    if youth:
        header += ["Site", "Age", "Gender", "Race / ethnicity", "Referred by", "Waitlist group"]
    ace = wave == "baseline"
    if ace:
        header.append(GF_ACE_Q)
    header += [f"{t} (1 = strongly disagree, 5 = strongly agree)" for t in BRS]
    rows: list[list[object]] = [header]
    for _, r in s.iterrows():
        t = _stamp(r["survey_date"], rng)
        row: list[object] = [f"{t.month}/{t.day}/{t.year} {t.hour}:{t:%M:%S}", r["youth_id"]]
        if youth:
            row += [
                SITES[r["site"]],
                r["age"],
                GENDER.get(_v(r["gender"]), "") if _v(r["gender"]) else "",
                RACE.get(_v(r["race_ethnicity"]), ""),
                REFERRAL[r["referral_source"]],
                "Yes" if r["comparison"] else "No",
            ]
        if ace:
            row.append(", ".join(_ace_ticked(r)))
        row += [GF_LABELS.get(_v(r[f"brs_{k}"]), "") for k in range(1, 7)]
        rows.append(row)
    _write(folder / name, rows)
    months = {"baseline": 0, "6m": 6, "12m": 12}[wave]
    text = ""
    if youth:
        codes = _labels_codes()
        codes["site"] = {v: v for v in SITES.values()}
        codes["comparison"] = {"Yes": True, "No": False}
        text += (
            "# youth: the first questions of the Google Form\n"
            f'[youth]\nfile = "{name}"\nformat = "sheet"\n\n'
            + _youth_mapping(
                "youth",
                {
                    "youth_id": "Youth code",
                    "site": "Site",
                    "age": "Age",
                    "gender": "Gender",
                    "race_ethnicity": "Race / ethnicity",
                    "referral_source": "Referred by",
                    "enrolment_date": "Timestamp",
                    "comparison": "Waitlist group",
                },
                codes,
            )
            + '\n[youth.dates]\nenrolment_date = "%m/%d/%Y %H:%M:%S"\n\n'
        )
    text += (
        f"# surveys at {wave}: Google Forms download (headers are the question text)\n"
        f'[[surveys]]\nfile = "{name}"\nformat = "sheet"\n'
        + ('empty = ["cyrm_r"]\n' if ace else 'empty = ["ace10", "cyrm_r"]\n')
        + '\n[surveys.columns]\nyouth_id = "Youth code"\nsurvey_date = "Timestamp"\n'
        + "".join(f'brs_{k} = "{h}"\n' for k, h in enumerate(header[-6:], 1))
        + f'\n[surveys.set]\nwave = "{wave}"\nmonths = {months}\nstatus = "completed"\n'
        + "\n[surveys.codes.brs]\n"
        + "".join(f'"{lab}" = {c}\n' for c, lab in GF_LABELS.items())
        + '\n[surveys.dates]\nsurvey_date = "%m/%d/%Y %H:%M:%S"\n'
    )
    if ace:
        text += (
            "\n# the ticked options in one cell, joined by a comma and a space\n"
            f'[[surveys.multiselect]]\nquestion = "{GF_ACE_Q}"\nseparator = ", "\n'
            f'none = "{NONE}"\n[surveys.multiselect.options]\n'
            + "".join(f'"{t}" = "ace10_{k}"\n' for k, t in enumerate(ACE, 1))
        )
    return text


# --------------------------------------------------------------------------- staff sheets

CLOSURE = {
    "planned completion": "Completed as planned",
    "youth or family moved": "Family moved",
    "mentor time constraints": "Mentor ran out of time",
    "relationship difficulty": "Relationship did not work",
    "safety concern": "Safety concern",
    "other": "Other",
}


def staff(folder: Path, p: synth.Program) -> str:
    """mentors.xlsx-like CSVs kept by staff: their own column names, US dates."""
    m = p.mentors
    rows: list[list[object]] = [
        [
            "Mentor code",
            "Hub",
            "Age",
            "Gender",
            "TI training hours",
            "Supervision",
            "Current caseload",
        ]
    ]
    for _, r in m.iterrows():
        rows.append(
            [
                r["mentor_id"],
                SITES[r["site"]],
                r["age"],
                {"woman": "Woman", "man": "Man", "another gender": "Another gender"}.get(
                    _v(r["gender"]), ""
                ),
                _v(r["training_hours"]),
                str(r["supervision"]).capitalize(),
                r["caseload"],
            ]
        )
    _write(folder / "staff_mentors.csv", rows)
    rows = [
        [
            "Match no.",
            "Youth code",
            "Mentor code",
            "Match start",
            "Match end",
            "Why it closed",
            "Planned length (months)",
        ]
    ]
    us = lambda d: "" if pd.isna(d) else f"{d.month}/{d.day}/{d.year}"  # noqa: E731
    for _, r in p.matches.iterrows():
        rows.append(
            [
                r["match_id"],
                r["youth_id"],
                r["mentor_id"],
                us(r["start_date"]),
                us(r["end_date"]),
                CLOSURE.get(_v(r["closure_reason"]), ""),
                r["planned_months"],
            ]
        )
    _write(folder / "staff_matches.csv", rows)
    return (
        "# mentors and matches: spreadsheets kept by program staff (saved as CSV)\n"
        '[mentors]\nfile = "staff_mentors.csv"\nformat = "csv"\n\n'
        + _youth_mapping(
            "mentors",
            {
                "mentor_id": "Mentor code",
                "site": "Hub",
                "age": "Age",
                "gender": "Gender",
                "training_hours": "TI training hours",
                "supervision": "Supervision",
                "caseload": "Current caseload",
            },
            {
                "site": {v: v for v in SITES.values()},
                "gender": {"Woman": "woman", "Man": "man", "Another gender": "another gender"},
                "supervision": {
                    "Monthly": "monthly",
                    "Fortnightly": "fortnightly",
                    "Weekly": "weekly",
                },
            },
        )
        + '\n[matches]\nfile = "staff_matches.csv"\nformat = "csv"\n\n'
        + _youth_mapping(
            "matches",
            {
                "match_id": "Match no.",
                "youth_id": "Youth code",
                "mentor_id": "Mentor code",
                "start_date": "Match start",
                "end_date": "Match end",
                "closure_reason": "Why it closed",
                "planned_months": "Planned length (months)",
            },
            {"closure_reason": {v: k for k, v in CLOSURE.items()}},
        )
        + '\n[matches.dates]\nstart_date = "%m/%d/%Y"\nend_date = "%m/%d/%Y"\n'
    )


def main(out: Path) -> None:
    """Write every example folder under ``out``."""
    head = (
        "# mapping.toml: how this program's exports become the program tables\n"
        "# (see CODEBOOK.md of a `tim init` folder and tim_research.io.mapping)\n\n"
    )
    small = synth.program(n_youth=12, seed=5)
    big = synth.program(n_youth=60, seed=3)
    for name, build in {
        "redcap": lambda f, rng: redcap(f, small, with_surveys=True),
        "qualtrics": lambda f, rng: qualtrics(
            f, small, "intake_survey.csv", youth=True, cyrm=False, rng=rng
        ),
        "surveymonkey": None,
        "google-forms": lambda f, rng: google_form(
            f, small, "Intake form (Responses).csv", wave="baseline", youth=True, rng=rng
        ),
    }.items():
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(11)
        if build is None:  # SurveyMonkey: youth from a staff list, baseline from the survey
            text = surveymonkey(folder, small, "baseline_survey.csv", wave="baseline", rng=rng)
            text = _staff_youth(folder, small) + text
        else:
            text = build(folder, rng)
        (folder / "mapping.toml").write_text(head + text, encoding="utf-8", newline="\n")
        _package(folder, small, ["youth", "surveys"])
    folder = out / "own-program"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(12)
    text = head + redcap(folder, big, with_surveys=False) + "\n"
    text += qualtrics(folder, big, "baseline_qualtrics.csv", youth=False, cyrm=True, rng=rng)
    text += "\n" + surveymonkey(folder, big, "followup_6m_surveymonkey.csv", wave="6m", rng=rng)
    text += "\n" + google_form(
        folder, big, "Follow-up 12 months (Responses).csv", wave="12m", youth=False, rng=rng
    )
    text += "\n" + staff(folder, big)
    (folder / "mapping.toml").write_text(text, encoding="utf-8", newline="\n")
    _package(folder, big, ["youth", "surveys", "mentors", "matches"])


def _staff_youth(folder: Path, p: synth.Program) -> str:
    rows: list[list[object]] = [
        [
            "Youth code",
            "Site",
            "Age",
            "Gender",
            "Race / ethnicity",
            "Referred by",
            "Enrolled",
            "Waitlist group",
        ]
    ]
    y = _baseline(p)
    for _, r in y.iterrows():
        d = r["enrolment_date"]
        rows.append(
            [
                r["youth_id"],
                SITES[r["site"]],
                r["age"],
                GENDER.get(_v(r["gender"]), "") if _v(r["gender"]) else "",
                RACE.get(_v(r["race_ethnicity"]), ""),
                REFERRAL[r["referral_source"]],
                f"{d.month}/{d.day}/{d.year}",
                "Yes" if r["comparison"] else "No",
            ]
        )
    _write(folder / "enrolment_list.csv", rows)
    codes = _labels_codes()
    codes["site"] = {v: v for v in SITES.values()}
    codes["comparison"] = {"Yes": True, "No": False}
    return (
        "# youth: the program's enrolment list (a spreadsheet saved as CSV)\n"
        '[youth]\nfile = "enrolment_list.csv"\nformat = "csv"\n\n'
        + _youth_mapping(
            "youth",
            {
                "youth_id": "Youth code",
                "site": "Site",
                "age": "Age",
                "gender": "Gender",
                "race_ethnicity": "Race / ethnicity",
                "referral_source": "Referred by",
                "enrolment_date": "Enrolled",
                "comparison": "Waitlist group",
            },
            codes,
        )
        + '\n[youth.dates]\nenrolment_date = "%m/%d/%Y"\n\n'
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
