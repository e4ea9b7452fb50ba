"""A secondary school's assessment records: students, teachers, course sections, enrolments, assessments,
scores and absences over three terms (Fall 2023, Spring 2024 and the Fall 2024 term in progress).
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np

from sqlgym.scenarios.text2sql import fake

SEED = 23
DESCRIPTION = ("A secondary school's student assessment records (grades 9-12): teachers, course sections by term, "
               "enrolments with final grades, assessments and scores, and attendance (absences and late "
               "arrivals). Records run to the end of November 2024, part-way through the Fall 2024 term.")

SCHEMA = """
CREATE TABLE teachers (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    department TEXT NOT NULL,      -- 'Mathematics', 'Science', 'English', 'History', 'Languages', 'Arts', 'Computing'
    email TEXT NOT NULL,
    hire_date TEXT NOT NULL,
    is_head INTEGER NOT NULL       -- 1 if head of their department
);
CREATE TABLE students (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    gender TEXT NOT NULL,          -- 'F' or 'M'
    birth_date TEXT NOT NULL,
    grade_level INTEGER NOT NULL,  -- school year in 2024-25: 9 to 12
    enrolled_on TEXT NOT NULL,     -- date the student joined the school
    email TEXT,
    advisor_id INTEGER REFERENCES teachers(id),  -- tutor/advisor teacher; NULL if not yet assigned
    scholarship INTEGER NOT NULL   -- 1 if the student holds a scholarship
);
CREATE TABLE courses (
    id INTEGER PRIMARY KEY,        -- one section of a course in one term
    code TEXT NOT NULL,            -- catalogue code, e.g. 'MAT201'; the same code recurs across terms
    title TEXT NOT NULL,
    subject TEXT NOT NULL,         -- same values as teachers.department
    level TEXT NOT NULL,           -- 'standard', 'honors', 'AP'
    credits REAL NOT NULL,
    term TEXT NOT NULL,            -- 'Fall 2023', 'Spring 2024', 'Fall 2024'
    teacher_id INTEGER NOT NULL REFERENCES teachers(id),
    room TEXT,
    capacity INTEGER NOT NULL      -- maximum number of enrolled students
);
CREATE TABLE enrolments (
    id INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES students(id),
    course_id INTEGER NOT NULL REFERENCES courses(id),
    enrolled_on TEXT NOT NULL,
    status TEXT NOT NULL,          -- 'completed', 'dropped', 'active' (Fall 2024, in progress)
    final_grade TEXT               -- letter grade 'A'-'F'; NULL unless status is 'completed'
);
CREATE TABLE assessments (
    id INTEGER PRIMARY KEY,
    course_id INTEGER NOT NULL REFERENCES courses(id),
    title TEXT NOT NULL,
    assessment_type TEXT NOT NULL, -- 'quiz', 'homework', 'project', 'midterm', 'final exam'
    held_on TEXT NOT NULL,         -- date held or due (may be in the future for Fall 2024)
    weight INTEGER NOT NULL        -- percent of the course grade; a course's weights sum to 100
);
CREATE TABLE scores (
    id INTEGER PRIMARY KEY,
    assessment_id INTEGER NOT NULL REFERENCES assessments(id),
    student_id INTEGER NOT NULL REFERENCES students(id),
    score REAL,                    -- percent 0-100; NULL if the student missed it
    submitted_late INTEGER NOT NULL  -- 1 if handed in after the deadline
);
CREATE TABLE absences (
    id INTEGER PRIMARY KEY,        -- one missed or late class; days with full attendance have no row
    student_id INTEGER NOT NULL REFERENCES students(id),
    course_id INTEGER NOT NULL REFERENCES courses(id),
    absence_date TEXT NOT NULL,
    status TEXT NOT NULL,          -- 'absent' or 'late'
    minutes_late INTEGER,          -- only for status 'late'
    excused INTEGER NOT NULL,      -- 1 if excused (note from home, school trip, ...)
    reason TEXT                    -- given reason; NULL when none was given
);
"""

DEPARTMENTS = ("Mathematics", "Science", "English", "History", "Languages", "Arts", "Computing")
DEPT_CODE = {"Mathematics": "MAT", "Science": "SCI", "English": "ENG", "History": "HIS", "Languages": "LAN",
             "Arts": "ART", "Computing": "CMP"}
# (subject, title, level, credits); the first of each subject are the most popular
CATALOGUE = (
    ("Mathematics", "Algebra I", "standard", 1.0), ("Mathematics", "Geometry", "standard", 1.0),
    ("Mathematics", "Algebra II", "honors", 1.0), ("Mathematics", "Calculus", "AP", 1.0),
    ("Mathematics", "Statistics", "AP", 1.0),
    ("Science", "Biology", "standard", 1.0), ("Science", "Chemistry", "standard", 1.0),
    ("Science", "Physics", "honors", 1.0), ("Science", "Environmental Science", "AP", 1.0),
    ("English", "English 9", "standard", 1.0), ("English", "American Literature", "standard", 1.0),
    ("English", "Creative Writing", "standard", 0.5), ("English", "English Literature", "AP", 1.0),
    ("History", "World History", "standard", 1.0), ("History", "US History", "honors", 1.0),
    ("History", "Economics", "standard", 0.5),
    ("Languages", "Spanish I", "standard", 1.0), ("Languages", "Spanish II", "standard", 1.0),
    ("Languages", "French I", "standard", 1.0),
    ("Arts", "Studio Art", "standard", 0.5), ("Arts", "Music Theory", "standard", 0.5),
    ("Arts", "Drama", "standard", 0.5),
    ("Computing", "Intro to Programming", "standard", 0.5), ("Computing", "Computer Science", "AP", 1.0),
)
TERMS = (("Fall 2023", "2023-09-05", "2023-12-20"), ("Spring 2024", "2024-01-16", "2024-06-07"),
         ("Fall 2024", "2024-09-03", "2024-12-19"))
AS_OF = "2024-11-30"  # the records end here
TYPE_OFFSET = {"quiz": 3.0, "homework": 5.0, "project": 4.0, "midterm": -2.0, "final exam": -4.0}
REASONS = ("illness", "illness", "illness", "medical appointment", "family", "school trip", "sports event")
MALE_NAMES = frozenset((
    "Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry", "Theodore", "Jack", "Levi",
    "Alexander", "Jackson", "Mateo", "Daniel", "Michael", "Mason", "Sebastian", "Ethan", "Logan", "Owen", "Samuel",
    "Jacob", "Asher", "Aiden", "John", "Joseph", "Wyatt", "David", "Leo", "Luke", "Julian", "Hudson", "Grayson",
    "Matthew", "Ezra", "Gabriel", "Carter", "Isaac", "Jayden", "Luca", "Anthony", "Dylan", "Lincoln", "Thomas",
    "Maverick", "Elias", "Josiah", "Charles"))
EITHER_NAMES = frozenset(("Avery", "Riley"))
ROOMS = tuple(f"{b}{n}" for b in "ABC" for n in (101, 102, 104, 201, 203, 205, 210))


def _iso(d: dt.date) -> str:
    return d.isoformat()


@functools.cache
def _school_days(start: str, end: str) -> tuple[tuple[str, ...], np.ndarray]:
    """The weekdays between start and end, with sampling weights (Mondays and Fridays a little higher)."""
    lo, hi = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    days = [lo + dt.timedelta(days=k) for k in range((hi - lo).days + 1)]
    days = [d for d in days if d.weekday() < 5]
    w = np.array([1.3 if d.weekday() in (0, 4) else 1.0 for d in days])
    return tuple(_iso(d) for d in days), w / w.sum() if len(w) else w


def _weekday_dates(rng: np.random.Generator, start: str, end: str, n: int) -> list[str]:
    """n school days (Monday-Friday) between start and end."""
    days, p = _school_days(start, end)
    if not days or n == 0:
        return []
    return [days[int(i)] for i in rng.choice(len(days), size=n, p=p)]


def _letter(x: float) -> str:
    return "A" if x >= 90 else "B" if x >= 80 else "C" if x >= 70 else "D" if x >= 60 else "F"


def rows(rng: np.random.Generator) -> dict[str, list[tuple]]:
    n_teach, n_stud = 19, 150
    people = fake.person_names(rng, n_teach + n_stud)

    # teachers: every department has at least two; the longest-serving one heads it
    t_dept = list(DEPARTMENTS) * 2 + fake.skewed(rng, DEPARTMENTS, n_teach - 2 * len(DEPARTMENTS), 0.6)
    t_hired = fake.dates(rng, n_teach, "2004-08-15", "2023-08-20")
    t_mail = fake.emails(people[:n_teach], ("northfield.edu",))
    heads = {d: min((i for i in range(n_teach) if t_dept[i] == d), key=lambda i: t_hired[i]) for d in DEPARTMENTS}
    teachers = [(i + 1, f, last, t_dept[i], t_mail[i], t_hired[i], int(heads[t_dept[i]] == i))
                for i, (f, last) in enumerate(people[:n_teach])]
    by_dept = {d: [i + 1 for i in range(n_teach) if t_dept[i] == d] for d in DEPARTMENTS}

    # students
    grade = rng.choice((9, 10, 11, 12), size=n_stud, p=(0.28, 0.26, 0.24, 0.22))
    ability = rng.standard_normal(n_stud)
    absent_rate = np.minimum(np.exp(-1.3 + 0.8 * rng.standard_normal(n_stud) - 0.25 * ability), 2.0)
    students = []
    names = people[n_teach:]
    coin = rng.random(n_stud)
    gender = ["M" if f in MALE_NAMES or (f in EITHER_NAMES and coin[i] < 0.5) else "F" for i, (f, _) in enumerate(names)]
    mails = fake.with_nulls(rng, fake.emails(names, ("students.northfield.edu",)), 0.1)
    first_year = []  # school year (start) in which the student joined
    for i, (f, last) in enumerate(names):
        g = int(grade[i])
        born = fake.dates(rng, 1, f"{2018 - g}-09-01", f"{2019 - g}-08-31")[0]
        start_year = 2024 - (g - 9)
        if rng.random() < 0.12 and g > 9:  # a transfer student, joined later
            start_year = int(rng.integers(start_year + 1, 2025))
            joined = fake.dates(rng, 1, f"{start_year}-08-20", f"{start_year}-10-15")[0]
        else:
            joined = fake.dates(rng, 1, f"{start_year}-08-20", f"{start_year}-09-04")[0]
        first_year.append(start_year)
        advisor = int(rng.integers(1, n_teach + 1)) if rng.random() > 0.08 else None
        students.append((i + 1, f, last, gender[i], born, g, joined, mails[i], advisor, int(rng.random() < 0.14)))

    # course sections: each term offers a popular subset of the catalogue
    courses: list[tuple] = []
    section_info = []  # (term index, catalogue index, difficulty)
    for t, (term, _, _) in enumerate(TERMS):
        chosen = sorted(rng.choice(len(CATALOGUE), size=13, replace=False,
                                   p=fake.zipf_weights(len(CATALOGUE), 0.35)))
        for c in chosen:
            subj, title, level, credits = CATALOGUE[int(c)]
            number = {"standard": 100, "honors": 200, "AP": 300}[level] + 1 + int(c) % 10
            teacher = int(rng.choice(by_dept[subj]))
            room = fake.pick(rng, ROOMS, 1)[0] if rng.random() > 0.1 else None
            cap = int(rng.choice((24, 28, 30, 32)))
            courses.append((len(courses) + 1, f"{DEPT_CODE[subj]}{number}", title, subj, level, credits, term,
                            teacher, room, cap))
            section_info.append((t, int(c), float(rng.normal(0, 4)) - (3 if level == "AP" else 0)))

    # assessments per section
    assessments: list[tuple] = []
    per_course: dict[int, list[int]] = {}
    for cid, (t, _, _) in enumerate(section_info, start=1):
        term, start, end = TERMS[t]
        s, e = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        span = (e - s).days
        plan = [("quiz", 0.15), ("homework", 0.3), ("midterm", 0.5)]
        if rng.random() < 0.6:
            plan.insert(2, ("quiz", 0.4))
        if rng.random() < 0.5:
            plan.append(("project", 0.75))
        if rng.random() < 0.4:
            plan.append(("homework", 0.8))
        plan.append(("final exam", 0.97))
        weights = {"quiz": 10, "homework": 5, "project": 15, "midterm": 25}
        ws = [weights.get(k, 0) for k, _ in plan]
        ws[-1] = 100 - sum(ws)
        counts: dict[str, int] = {}
        for (kind, frac), w in zip(plan, ws):
            counts[kind] = counts.get(kind, 0) + 1
            label = {"quiz": "Quiz", "homework": "Homework", "project": "Project", "midterm": "Midterm Exam",
                     "final exam": "Final Exam"}[kind]
            if kind in ("quiz", "homework"):
                label = f"{label} {counts[kind]}"
            day = s + dt.timedelta(days=int(frac * span + rng.integers(-4, 5)))
            if day.weekday() >= 5:
                day -= dt.timedelta(days=day.weekday() - 4)
            assessments.append((len(assessments) + 1, cid, label, kind, _iso(day), w))
            per_course.setdefault(cid, []).append(len(assessments))

    # enrolments: students take 2-4 sections per term they were at school, popular sections fill first
    enrolments: list[tuple] = []
    scores: list[tuple] = []
    absences: list[tuple] = []
    by_term = {t: [cid for cid, info in enumerate(section_info, start=1) if info[0] == t] for t in range(3)}
    filled = {cid: 0 for cid in range(1, len(courses) + 1)}
    pref = {}  # popularity: catalogue order, core courses first
    for t, opts in by_term.items():
        popularity = np.array([1.0 / (1 + section_info[c - 1][1]) ** 0.6 for c in opts])
        pref[t] = popularity / popularity.sum()
    for sid in range(1, n_stud + 1):
        i = sid - 1
        for t, (_, start, end) in enumerate(TERMS):
            school_year = 2023 if t < 2 else 2024
            if first_year[i] > school_year:
                continue
            opts = by_term[t]
            k = int(rng.choice((2, 3, 3, 4)))
            picked = [opts[int(j)] for j in rng.choice(len(opts), size=len(opts), replace=False, p=pref[t])]
            took = [c for c in picked if filled[c] < courses[c - 1][9]][:k]
            for cid in took:
                filled[cid] += 1
                enrolled_on = max(fake.days_after(rng, [start], -14, 10)[0], students[i][6])
                dropped = rng.random() < 0.07
                offs = section_info[cid - 1][2]
                total, wsum = 0.0, 0
                cut = int(rng.integers(1, 3)) if dropped else 99
                for n, aid in enumerate(per_course[cid]):
                    _, _, _, kind, held, w = assessments[aid - 1]
                    if n >= cut or held > AS_OF:
                        break
                    if held < enrolled_on:  # a late joiner is not scored on earlier work
                        continue
                    missed = rng.random() < 0.03 + 0.04 * min(absent_rate[i], 1.5)
                    val = None if missed else round(min(100.0, max(0.0, float(
                        82 + 8 * ability[i] + offs + TYPE_OFFSET[kind] + rng.normal(0, 7)))), 1)
                    late = int(kind in ("homework", "project") and val is not None and rng.random() < 0.12)
                    scores.append((len(scores) + 1, aid, sid, val, late))
                    if val is not None:  # a missed assessment is left out of the final grade
                        total += val * w
                        wsum += w
                if dropped:
                    status, final = "dropped", None
                elif t == 2:
                    status, final = "active", None
                else:
                    status, final = "completed", _letter(total / wsum) if wsum else "F"
                enrolments.append((len(enrolments) + 1, sid, cid, enrolled_on, status, final))
                # absences over the part of the term the student attended
                t_end = min(end, AS_OF) if not dropped else fake.days_after(rng, [start], 20, 45)[0]
                n_abs = int(rng.poisson(absent_rate[i] * 2.2))
                for absent_on in sorted(_weekday_dates(rng, max(start, enrolled_on), t_end, n_abs)):
                    late = rng.random() < 0.3
                    excused = int(rng.random() < (0.15 if late else 0.55))
                    reason = fake.pick(rng, REASONS, 1)[0] if excused else (
                        "oversleeping" if late and rng.random() < 0.3 else None)
                    minutes = int(rng.choice((5, 5, 10, 10, 15, 20, 30))) if late else None
                    absences.append((len(absences) + 1, sid, cid, absent_on, "late" if late else "absent", minutes,
                                     excused, reason))

    enrolments.sort(key=lambda r: (r[3], r[1], r[2]))
    enrolments = [(n + 1, *r[1:]) for n, r in enumerate(enrolments)]
    absences.sort(key=lambda r: (r[3], r[1], r[2]))
    absences = [(n + 1, *r[1:]) for n, r in enumerate(absences)]
    return {"teachers": teachers, "students": students, "courses": courses, "enrolments": enrolments,
            "assessments": assessments, "scores": scores, "absences": absences}
