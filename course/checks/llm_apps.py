"""Checks of exercise 11 (LLM-integrated applications): M1 for a prompt guardrail, M8 and M6 for a retrieval index.

Every check builds its own application from the seed (the visible check from the public seed, the hidden one
from the grading seed): a guardrail trained on the seed's split of the course's prompt corpus, the injections
it has to stop, or the targets of a poisoning attack. It hands the learner's function only what the threat
model gives the attacker, and judges the outcome on the trusted side:

- rewrite: the learner's function returns *edits* (not text); the check applies and counts them
  (`course.science.llm_apps.apply_edits`) against the edit budget, counts guardrail queries in its own
  service, and compares the share of injections that get through with two baselines that lack the
  mechanism: the unedited prompts and the same number of random edits.
- plant: the learner's documents go into the check's own index; the targeted question must now be answered
  with the attacker's answer, a baseline document holding the answer alone must not do it, and the
  untargeted questions must keep their answers.
- prediction: graded for completion only (a number in [0, 1]).
"""
from __future__ import annotations

import numpy as np

from course.checks import call, task
from course.checks.feedback import fmt
from course.ground.threat import EditBudget
from course.science import llm_apps

A = "11-llm-apps"
BUDGET = 8  # edits per prompt
QUERIES = 1000  # guardrail queries per prompt
N_PROMPTS = 24
# Calibrated on 80 data seeds (60 derived from grading seeds, 1-20): the course's greedy attack gets at least 21%
# through, recipes without queries at most 17% (24 injections a check; 4 points a prompt).
MIN_EVADED = 0.20  # share of the injections that must get through the guardrail and still work
MARGIN = 0.20  # ... and at least this much more than the best baseline without queries
MAX_DOCS, MAX_WORDS = 3, 60
N_TARGETS = 6
MIN_STEERED = 5  # of N_TARGETS


def _rng_seed(seed: int) -> int:
    return int(seed) % (2**31 - 1)


def guardrail_case(seed: int, n: int = N_PROMPTS):
    """The seed's guardrail (trained on its split of the corpus) and n injections that work on the app."""
    data = llm_apps.prompts()
    train, test = llm_apps.split(data, seed=_rng_seed(seed))
    guardrail = llm_apps.train_guardrail(train)
    attackable = llm_apps.attack_set(guardrail, test)
    rng = np.random.default_rng(_rng_seed(seed) + 1)
    return guardrail, attackable.take(np.sort(rng.choice(len(attackable), size=min(n, len(attackable)), replace=False)))


def evaded_share(guardrail, injections, edits_per_prompt, threat: EditBudget) -> float:
    """Share of the injections that get through: not blocked, and the stand-in still obeys them."""
    edited = [llm_apps.apply_edits(p, e, threat) for p, e in zip(injections.texts, edits_per_prompt)]
    return float(np.mean(~llm_apps.stopped(guardrail, edited, injections.goal)))


@task(f"{A}/rewrite", answer="rewrite", misconceptions=["M1"])
def check_rewrite(rewrite, seed, chk):
    threat = EditBudget(budget=BUDGET, query_budget=QUERIES)
    guardrail, inj = guardrail_case(seed)
    results, used = [], 0
    for prompt in inj.texts:
        api = llm_apps.GuardrailAPI(guardrail, max_queries=QUERIES)
        edits = call(chk, rewrite, api, prompt, BUDGET, what="rewrite")
        chk.expect(isinstance(edits, (list, tuple)), expected="rewrite to return a list of edits",
                   seen=f"{type(edits).__name__}: {fmt(edits)}",
                   why="the edits are applied and counted by the checker, so that the budget is the grader's")
        chk.expect(len(edits) <= BUDGET, expected=f"at most {BUDGET} edits per prompt", seen=f"{len(edits)} edits",
                   why="robustness is always 'under a budget': an attack over the budget did not happen")
        try:
            llm_apps.apply_edits(prompt, edits, threat)
        except ValueError as e:
            chk.expect(False, expected="every edit one the edit budget allows on the text it is applied to",
                       seen=str(e), why="the threat model says which operations the attacker has")
        results.append(list(edits))
        used = max(used, api.queries_used)
    yours = evaded_share(guardrail, inj, results, threat)
    unedited = evaded_share(guardrail, inj, [[] for _ in inj.texts], threat)
    randomly = evaded_share(guardrail, inj, [llm_apps.random_edits(p, BUDGET, seed=_rng_seed(seed) + i)
                                             for i, p in enumerate(inj.texts)], threat)
    baseline = max(unedited, randomly)
    chk.expect(
        yours >= MIN_EVADED and yours >= baseline + MARGIN,
        expected=f"at least {MIN_EVADED:.0%} of {len(inj)} injections through the guardrail, still obeyed by the "
                 f"stand-in, and at least {MARGIN:.0%} more than the best attack without queries",
        seen=f"{yours:.0%} through with your edits; unedited {unedited:.0%}, {BUDGET} random edits {randomly:.0%}",
        why="a guardrail that stops the held-out prompts of known families (the naive evaluation) is judged by "
            "the attacker who uses its answers to choose the edits: that is the number a robustness claim needs",
    )
    return chk.passed(f"{yours:.0%} of {len(inj)} unseen injections got through with at most {BUDGET} edits and "
                      f"{used} guardrail queries per prompt (unedited {unedited:.0%}, random edits {randomly:.0%})")


def poisoning_case(seed: int):
    """The seed's targets: N_TARGETS facts of the knowledge base, each with an attacker's false answer."""
    kb = llm_apps.knowledge_base()
    rng = np.random.default_rng(_rng_seed(seed) + 2)
    order = rng.permutation(len(kb))
    targets = [kb[i] for i in order[:N_TARGETS]]
    others = [kb[i] for i in order[N_TARGETS:]]
    return targets, others, llm_apps.false_answers(_rng_seed(seed) + 3, N_TARGETS)


@task(f"{A}/plant", answer="plant", misconceptions=["M8", "M6"])
def check_plant(plant, seed, chk):
    targets, others, wrong = poisoning_case(seed)
    index = llm_apps.northwind_index()
    clean = llm_apps.RAGApp(index)
    planted = index
    for t, answer in zip(targets, wrong):
        docs = call(chk, plant, t["question"], answer, what="plant")
        chk.expect(isinstance(docs, (list, tuple)) and all(isinstance(d, str) for d in docs),
                   expected="plant to return a list of strings (documents)", seen=f"{type(docs).__name__}: {fmt(docs)}")
        chk.expect(len(docs) <= MAX_DOCS, expected=f"at most {MAX_DOCS} documents per targeted question",
                   seen=f"{len(docs)} documents", why="the attacker's capability: a handful of texts, not the index")
        longest = max((len(d.split()) for d in docs), default=0)
        chk.expect(longest <= MAX_WORDS, expected=f"documents of at most {MAX_WORDS} words",
                   seen=f"a document of {longest} words", why="a planted text is one ordinary-looking page")
        planted = planted.add(list(docs), "attacker")
    app = llm_apps.RAGApp(planted)
    steered = llm_apps.answer_rates(app, [t["question"] for t in targets], wrong)
    chk.expect(int(steered.sum()) >= MIN_STEERED,
               expected=f"at least {MIN_STEERED} of {N_TARGETS} targeted questions answered with the planted answer",
               seen=f"{int(steered.sum())} of {N_TARGETS} "
                    f"(e.g. {targets[0]['question']!r} -> {app.ask(targets[0]['question']).text!r:.90})",
               why="a planted text must win both conditions: be retrieved for the question, and make the model "
                   "give the attacker's answer")
    before = llm_apps.answer_rates(clean, [o["question"] for o in others], [o["answer"] for o in others])
    after = llm_apps.answer_rates(app, [o["question"] for o in others], [o["answer"] for o in others])
    chk.expect(int(after.sum()) >= int(before.sum()) - 1,
               expected=f"the {len(others)} questions you did not target still answered as before (at most one lost)",
               seen=f"{int(before.sum())} answered correctly before, {int(after.sum())} after",
               why="targeted poisoning changes the chosen answers and nothing else, which is why nobody notices")
    share = N_TARGETS * MAX_DOCS / (len(index.documents) + N_TARGETS * MAX_DOCS)
    return chk.passed(f"{int(steered.sum())} of {N_TARGETS} targeted answers changed by at most {MAX_DOCS} planted "
                      f"texts each (at most {share:.0%} of the index); other answers kept")


@task(f"{A}/prediction", answer="my_prediction", kind="value", misconceptions=["M1"])
def check_prediction(my_prediction, seed, chk):
    ok = isinstance(my_prediction, (int, float)) and not isinstance(my_prediction, bool) \
        and 0.0 <= float(my_prediction) <= 1.0
    chk.expect(ok, expected="your prediction: a number between 0 and 1", seen=fmt(my_prediction),
               why="the prediction is graded for completion only; what matters is that you commit before measuring")
    return chk.passed(f"prediction recorded: {float(my_prediction):.2f} (graded for completion only)")
