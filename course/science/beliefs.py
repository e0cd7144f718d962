"""The mental-model check: two parallel forms of true/false statements about ML security, scored per misconception.

The course measures what a learner believes before it starts (exercise 00, form A) and again at the end
(exercise 10, form B). Each form holds 32 statements, 4 per misconception of the catalogue (M1-M8,
`course.ground.misconceptions.MISCONCEPTIONS`; Bieringer et al., SOUPS 2022): two true and two false, one
of each easier and one harder. Item aNN of form A and item bNN of form B are parallel (same misconception,
answer and expected difficulty) but not the same statement, so the second form measures the belief, not
the memory of the first; the two are compared per misconception, never item by item. Every statement is
about "our system" - a decision the learner would take about their own model - not the recall of a
lesson's figure. A statement of a misconception is false; a statement that contradicts one is true. Each
carries an explanation with its evidence (primary sources; MITRE ATLAS case studies by ID, labelled
incident or exercise).

The API the questionnaire relies on: `FORMS` ({"A": ids, "B": ids}), `form_items(form)`, `BY_ID` (both
forms), `CONFIDENCE`. Answers are plain data, so that nbgrader can re-execute the cell that holds them and
a cohort grader can export them::

    answers = {
        "a01": {"answer": True, "confidence": 3},   # item id -> your answer and how sure you are
        ...
    }

`answer` is True or False; `confidence` is 1-4 (see `CONFIDENCE`). One answer set holds one form.

Scoring (`score`): per misconception, the share of its items answered correctly. It is NOT weighted
by confidence: a guess that happens to be right counts as right. Confidence is reported beside it
(`summary`): the items answered wrongly at confidence 3 or 4 are the beliefs held firmly, which is
what the course wants to find and change. An unanswered item counts as not correct.

Saved answers (`save` / `load`): a small JSON file per phase, by default
``my-work/.beliefs/<phase>.json`` under the repository root (phase "before" or "after"; the folder
can be moved with $COURSE_BELIEFS_DIR). Its content::

    {"format": "aml-course-beliefs", "version": 2, "phase": "before", "form": "A",
     "saved_at": "2026-11-28T10:00:00+00:00",
     "answers": {"a01": {"answer": true, "confidence": 3}, ...},
     "scores": {"M1": 0.75, ...}}

Nothing is written while nbgrader grades (environment variable NBGRADER_EXECUTION) or while the
course's own tools run a notebook (COURSE_NO_SELF_CHECK, set by `course bench` and the tests), so
that grading or benchmarking never overwrites a learner's file.

One call per exercise: exercise 00 shows the result and saves it (`show_result`, `save`);
exercise 10 calls `after(answers)`, which saves the "after", compares it with the saved "before"
per misconception, draws both, and explains every item answered wrongly. `aggregate` gives a cohort's
share of correct answers per misconception; `item_statistics` the difficulty and discrimination of each
item (`course.grader.beliefs_report` draws both for the cohort).
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from course import ROOT
from course.ground.misconceptions import MISCONCEPTIONS
from course.science import plots

DIR_VARIABLE = "COURSE_BELIEFS_DIR"
PHASES = ("before", "after")
FORMAT = "aml-course-beliefs"
VERSION = 2

CONFIDENCE = {1: "a guess", 2: "leaning", 3: "fairly sure", 4: "certain"}
FIRM = 3  # answers at this confidence or above count as firmly held


@dataclass(frozen=True)
class Item:
    """One statement of the check."""

    id: str
    misconception: str
    statement: str
    answer: bool
    difficulty: int  # 1 easier, 2 harder (expected); parallel items of the two forms have the same
    explanation: str  # why, with the evidence


# Two parallel forms of 32 items, 4 per misconception: form A before the course (exercise 00), form B after
# it (exercise 10). Item aNN and item bNN are parallel: the same misconception, the same answer and the same
# expected difficulty, so the forms are balanced item by item. The order is the order of presentation:
# misconceptions interleaved, true and false mixed, and each half of a form (items 1-16, 17-32) holds two items
# of every misconception, one easier and one harder. Each item is about "our system" (the learner's own),
# never about a lesson's figure.
ITEMS = (
    # Form A: exercise 00, before.
    Item("a01", "M7", "Our model's 99% test accuracy means it will be about 99% accurate on inputs an attacker "
             "has changed slightly.",
         False, 1,
         "False: test accuracy is measured without an adversary; accuracy under attack at a stated "
         "budget is a different and often far lower number (Biggio & Roli, 2018; lesson 01)."),
    Item("a02", "M5", "A customer with a valid account can learn whether a specific person's record was in our "
             "training data, using only our API's answers.",
         True, 2,
         "True: membership inference needs only the model's outputs (Shokri et al., IEEE S&P 2017), "
         "reported as the true-positive rate at a low false-positive rate (Carlini et al., IEEE S&P "
         "2022; lesson 08)."),
    Item("a03", "M3", "If a pretrained model we download from a reputable hub carries a backdoor, the harm it "
             "does in our product is the hub's problem, not ours.",
         False, 1,
         "False: what a third-party model carries acts in your product and in your name; malicious "
         "model files were published on a major hub and ran code when loaded (MITRE ATLAS AML.CS0031, "
         "an incident; AML.T0058 Publish Poisoned Models; lesson 07)."),
    Item("a04", "M1", "If our defence was evaluated only against attacks designed without knowledge of it, its "
             "reported robustness may be far too high.",
         True, 2,
         "True: of 9 defences published at ICLR 2018, 7 relied on obfuscated gradients and 6 fell "
         "completely to attacks adapted to them (Athalye, Carlini & Wagner, ICML 2018); all 13 "
         "defences re-evaluated by Tramer et al. (NeurIPS 2020) were circumvented (lesson 09)."),
    Item("a05", "M8", "To poison our model, an attacker must control a large share, say a third, of our "
             "training data.",
         False, 1,
         "False: optimised poisoning and backdoor triggers do their damage with a few percent of the "
         "training set or less (NIST AI 100-2 E2025, poisoning; lesson 06)."),
    Item("a06", "M2", "The people most motivated to make our content-moderation model err are usually its own "
             "users, not outside hackers.",
         True, 2,
         "True: users who want banned content to stay up gain from every false negative and control "
         "the input; they change spelling and images until posts pass (lesson 05: attacker economics "
         "in content moderation)."),
    Item("a07", "M6", "Measuring the robustness of our model on its own tells us how robust our deployed "
             "system is.",
         False, 1,
         "False: the rest of the system changes the answer both ways: edited logos evaded a phishing "
         "detector's visual model while other components still caught the pages (MITRE ATLAS "
         "AML.CS0032), and attacks through data collection or retraining never meet a model-only test "
         "(lesson 02)."),
    Item("a08", "M4", "Customers who resubmit a rejected application with small changes until our model "
             "approves it are a threat our ML security testing should cover.",
         True, 2,
         "True: probing a deployed model until an input passes is evasion by queries; a practitioner "
         "in the study called it 'not so much AML but semi-automated fraud' (Bieringer et al., SOUPS "
         "2022; lesson 05)."),
    Item("a09", "M1", "Our fraud model shows customers only 'approved' or 'declined', never a score, so "
             "attackers cannot search for inputs that get approved.",
         False, 1,
         "False: decision-based attacks search with the final label alone (Brendel, Rauber & Bethge, "
         "ICLR 2018), and a fraudster retrying a declined transaction is doing exactly that (lesson "
         "04)."),
    Item("a10", "M6", "User feedback we collect for retraining is a way for outsiders to change our model "
             "without touching our servers.",
         True, 2,
         "True: Tay learned from its conversations, coordinated users fed it offensive language, and "
         "it was shut down within 24 hours (MITRE ATLAS AML.CS0009, an incident; AML.T0020 Poison "
         "Training Data; lesson 06)."),
    Item("a11", "M4", "Attacks that fool ML models have been shown in research, but none has been documented "
             "against a system in real use.",
         False, 1,
         "False: MITRE ATLAS records incidents, not only red-team exercises: a $77M fraud through a "
         "face-recognition check (AML.CS0004) and at least $3.4M of false unemployment claims through "
         "ID.me's identity verification (AML.CS0017), both AML.T0015 Evade AI Model."),
    Item("a12", "M8", "Poisoning points chosen by optimisation can do more damage to our model than the same "
             "number of random label flips.",
         True, 2,
         "True: optimised points go where they bend the decision boundary most, while random flips "
         "barely move it (Biggio, Nelson & Laskov, ICML 2012; lesson 06)."),
    Item("a13", "M2", "Our CV-screening model is an internal HR tool with no money flowing through it, so "
             "nobody has a reason to game it.",
         False, 1,
         "False: every applicant gains from one particular error, being passed through when the model "
         "should reject them, and applicants control the input the model reads; a motive is any gain "
         "from a specific mistake, not only money (lesson 05, in your own domain)."),
    Item("a14", "M5", "Requiring authentication and TLS on our prediction API prevents attackers from copying "
             "our model.",
         False, 1,
         "False: extraction needs only the answers to queries, which an authenticated customer "
         "receives legitimately (Tramer et al., USENIX Security 2016; MITRE ATLAS AML.CS0056; lessons "
         "02 and 08)."),
    Item("a15", "M7", "Our test accuracy estimates how the model does on inputs drawn like its training data, "
             "not on inputs someone chose.",
         True, 2,
         "True: a test set is a random sample of the same distribution, and an attacker's inputs are "
         "chosen, which that estimate does not cover (NIST AI 100-2 E2025, evasion; lesson 01)."),
    Item("a16", "M3", "When we buy a labelled data set, checking it for poisoning before training on it is our "
             "job, whatever the vendor's contract says.",
         True, 2,
         "True: the contract can move the cost, not the harm: whatever the set contains is learned by "
         "your model in your pipeline (AML.T0020 Poison Training Data; lessons 06-07)."),
    Item("a17", "M2", "An attacker would only target our medical triage model if they could profit from it "
             "financially.",
         False, 2,
         "False: a patient gains earlier care by being ranked as more urgent, and a clinic may gain "
         "from how cases are coded; integrity attacks need only a benefit from a specific error (NIST "
         "AI 100-2 E2025, attacker goals; lesson 05)."),
    Item("a18", "M8", "A few training examples carrying a trigger pattern and the attacker's chosen label can "
             "plant a backdoor in our model.",
         True, 1,
         "True: backdoor poisoning needs only a small poisoned fraction (Gu, Dolan-Gavitt & Garg, "
         "BadNets, 2017; Chen et al., 2017; lesson 07)."),
    Item("a19", "M1", "Adding random noise to each input before our model scores it makes gradient attacks "
             "fail, so our model is now robust.",
         False, 2,
         "False: noise used to hide the gradient is obfuscation, and averaging the gradient over the "
         "noise (Expectation over Transformation) defeats it (Athalye, Carlini & Wagner, ICML 2018). "
         "Randomized smoothing is different: it predicts the majority class under noise and certifies "
         "a radius (Cohen, Rosenfeld & Kolter, ICML 2019) - the guarantee comes from the certificate, "
         "not from an attack failing (lesson 09)."),
    Item("a20", "M6", "A rule we add after our model (for example, auto-approve below an amount) can open a "
             "route for attackers that no test of the model would reveal.",
         True, 1,
         "True: the attacker attacks the decision the workflow makes, and a rule outside the model is "
         "part of it; threat modelling covers every stage (lesson 02)."),
    Item("a21", "M5", "If our API returns only the predicted label, not a score, an attacker cannot extract a "
             "copy of our model.",
         False, 2,
         "False: a boundary search with labels alone recovers a linear model (Lowd & Meek, KDD 2005), "
         "and label-only extraction was shown against real ML APIs (Tramer et al., USENIX Security "
         "2016; lesson 08)."),
    Item("a22", "M3", "If our deployed model is fooled and our customers are harmed, the risk is ours, even "
             "when a vendor trained the model.",
         True, 1,
         "True: the deployer answers for the decisions the system makes; under the NIST AI RMF "
         "(Govern) accountability for an AI system's risks is assigned inside the organisation that "
         "uses it (lesson 07: who owns the risk)."),
    Item("a23", "M4", "If our monitoring has never flagged an attack on our model, we can conclude it has not "
             "been attacked.",
         False, 2,
         "False: a successful evasion is an input the model accepted as normal, so it leaves no error "
         "to flag; the ID.me bypass ran from October 2020 to December 2021 (MITRE ATLAS AML.CS0017, "
         "an incident)."),
    Item("a24", "M7", "To know how our model holds up against an attacker, we need its accuracy under attack "
             "at a stated attacker budget.",
         True, 1,
         "True: robustness is a security evaluation curve, accuracy against the attacker's budget, "
         "which test accuracy cannot show (Biggio & Roli, 2018; lessons 01 and 03)."),
    Item("a25", "M6", "Once our training code and servers are secured, our training data can no longer be a "
             "route for an attack.",
         False, 2,
         "False: poisoned data arrives through the workflow's legitimate inputs - data sources, "
         "labellers, feedback, third-party sets - e.g. mutated samples uploaded to VirusTotal (MITRE "
         "ATLAS AML.CS0002, an incident; lesson 06)."),
    Item("a26", "M4", "Tools that help criminals fool identity-verification models are offered for sale.",
         True, 1,
         "True: ProKYC, a tool that makes fake documents and deepfake selfie videos to pass "
         "know-your-customer checks, was found on sale to criminals (MITRE ATLAS AML.CS0034, an "
         "incident)."),
    Item("a27", "M7", "Of two candidate models for our system with the same test accuracy, either is equally safe "
             "to deploy against attackers.",
         False, 2,
         "False: their accuracy under attack can differ widely at the same budget (Biggio & Roli, "
         "2018; lesson 01 compares two such models)."),
    Item("a28", "M3", "Our security team's penetration tests cover the risk that our model can be evaded, so "
             "the ML team need not test for it.",
         False, 2,
         "False: evasion uses the model's legitimate interface, which an infrastructure test does not "
         "exercise; practitioners reported lacking the tools and ownership for ML attacks (Kumar et "
         "al., IEEE S&P Workshops 2020; lesson 07)."),
    Item("a29", "M1", "Before we rely on a mitigation for our model, it should be tested by an attacker who "
             "knows exactly how the mitigation works.",
         True, 1,
         "True: a defence must hold against an adversary who knows it, as in cryptography "
         "(Kerckhoffs); evaluating against a fixed attack overstates robustness (Carlini et al., 'On "
         "evaluating adversarial robustness', 2019; lessons 05 and 09 run the adaptive attacker)."),
    Item("a30", "M8", "If our model's accuracy on clean test data is unchanged after retraining, no backdoor "
             "was planted.",
         False, 2,
         "False: a backdoored model stays accurate on clean inputs and obeys the trigger; that is "
         "what makes it hard to see (Gu, Dolan-Gavitt & Garg, BadNets, 2017; lesson 07)."),
    Item("a31", "M2", "Anyone who gains when our model makes one particular mistake is a potential attacker of "
             "it, even if they are a paying customer.",
         True, 1,
         "True: fraudsters, applicants, patients and suppliers profit from specific errors; two "
         "people fooled a tax office's face recognition and issued $77M of fake invoices (MITRE ATLAS "
         "AML.CS0004, an incident; technique AML.T0015 Evade AI Model)."),
    Item("a32", "M5", "An attacker can fool our model without breaking any access rule, by sending inputs it "
             "accepts as normal.",
         True, 1,
         "True: perturbation attacks 'do not violate the classic notion of access/authorisation' "
         "(Kumar et al., 2020); the attacker is a legitimate user (lesson 02)."),
    # Form B: exercise 10, after.
    Item("b01", "M7", "A model that scores very well on our held-out test set is hard to fool.",
         False, 1,
         "False: models with high test accuracy are fooled by small perturbations (Szegedy et al., "
         "ICLR 2014; Biggio et al., ECML PKDD 2013; lesson 01)."),
    Item("b02", "M5", "A model of ours that generalises well (similar accuracy on training and test data) can "
             "still reveal which records it was trained on.",
         True, 2,
         "True: at a low false-positive rate, membership inference identifies training records of "
         "well-generalising models (Carlini et al., IEEE S&P 2022); only differential privacy with a "
         "stated epsilon bounds it (lesson 08)."),
    Item("b03", "M3", "If our decisions come from a cloud provider's ML API, attacks that fool it are the "
             "provider's problem, not ours.",
         False, 1,
         "False: the decisions and the losses are yours; the provider's model is one component of "
         "your workflow, and you choose how its answers are used (lesson 07: who owns the risk)."),
    Item("b04", "M1", "When a new defence brings our attack's success rate down to zero, that is a reason to "
             "suspect the evaluation before believing the defence.",
         True, 2,
         "True: an attack with an unbounded budget should always succeed, so 0% is a warning sign of "
         "obfuscated gradients or a broken attack (Athalye, Carlini & Wagner, ICML 2018; Carlini et "
         "al., 2019; lesson 09's masking checklist)."),
    Item("b05", "M8", "A handful of bad records among our million training examples is too few to change how "
             "our model behaves.",
         False, 1,
         "False: a backdoor was planted with about 50 poisoned samples (Chen et al., 2017), and "
         "poisoning 0.01% of a web-scale data set is practical (Carlini et al., IEEE S&P 2024; lesson "
         "07)."),
    Item("b06", "M2", "For our hiring model, a cheap change to the input that works for many applicants is a "
             "more likely attack than a carefully optimised adversarial example.",
         True, 2,
         "True: real attackers use simple, cheap manipulations rather than gradients (Apruzzese et "
         "al., 'Real attackers don't compute gradients', SaTML 2023); in hiring, hidden keywords in a "
         "CV cost nothing (lesson 05)."),
    Item("b07", "M6", "If our model passes its robustness tests before deployment, the system stays secure as "
             "long as the model file is unchanged.",
         False, 1,
         "False: thresholds, input handling, human review and the data for the next retraining all "
         "change what an attacker can do, with the same model file (MITRE ATLAS AML.CS0032; lesson "
         "02)."),
    Item("b08", "M4", "In our logs, a successful evasion of our model usually looks like an ordinary accepted "
             "input.",
         True, 2,
         "True: the attacker's goal is an input the model accepts, so nothing in the output marks it; "
         "evasion is found by other means (later losses, patterns across queries), as in the ID.me "
         "case (MITRE ATLAS AML.CS0017)."),
    Item("b09", "M1", "Limiting each account to 100 queries a day on our API stops attackers from finding "
             "inputs that evade our model.",
         False, 1,
         "False: adversarial examples crafted on a substitute model transfer to the target without "
         "querying it (Papernot et al., AsiaCCS 2017; lesson 04), and an attacker can spread queries "
         "over many accounts (MITRE ATLAS AML.CS0056, about 24,000 accounts)."),
    Item("b10", "M6", "Our monthly retraining on newly labelled cases is a point where an attacker can change "
             "our model.",
         True, 2,
         "True: whoever influences the new cases or their labels influences the next model (AML.T0020 "
         "Poison Training Data; MITRE ATLAS AML.CS0009; lesson 06)."),
    Item("b11", "M4", "The documented attacks on ML models were all carried out by researchers as "
             "demonstrations, not by criminals.",
         False, 1,
         "False: MITRE ATLAS labels each case study an 'exercise' (a red-team or research "
         "demonstration) or an 'incident'; incidents include the ID.me fraud (AML.CS0017) and the Tay "
         "poisoning (AML.CS0009)."),
    Item("b12", "M8", "A targeted poisoning attack can change our model's answer for one chosen input while "
             "its overall accuracy barely moves.",
         True, 2,
         "True: clean-label targeted poisoning flips one target's prediction with no visible loss of "
         "accuracy (Shafahi et al., 'Poison frogs!', NeurIPS 2018; lesson 06)."),
    Item("b13", "M2", "The visual inspection model on our production line is not worth attacking, since it "
             "only sorts defective parts.",
         False, 1,
         "False: a supplier whose parts are rejected gains from every false accept, and a competitor "
         "or saboteur from false rejects that stop the line; whoever gains from one error is a "
         "potential attacker (lesson 05, in your own domain)."),
    Item("b14", "M5", "Encrypting our training data at rest and in transit protects it against membership "
             "inference.",
         False, 1,
         "False: membership inference reads what the trained model reveals through its outputs, which "
         "encrypting stored or transmitted data does not touch (NIST AI 100-2 E2025, privacy attacks; "
         "lesson 08)."),
    Item("b15", "M7", "Raising our model's test accuracy can leave its accuracy under attack unchanged or even "
             "lower it.",
         True, 2,
         "True: more accurate ImageNet models were not more robust (Su et al., ECCV 2018), and "
         "robustness can be at odds with accuracy (Tsipras et al., ICLR 2019; lesson 03)."),
    Item("b16", "M3", "If we fine-tune a vendor's model on our own data, testing the result against attacks is "
             "our job, even if the vendor tested the original.",
         True, 2,
         "True: fine-tuning makes a new model that the vendor never tested, and a backdoor in the "
         "original can survive it (Gu, Dolan-Gavitt & Garg, BadNets, 2017; lesson 07)."),
    Item("b17", "M2", "If attacking our model would take an expert weeks of work, we can assume nobody will do "
             "it.",
         False, 2,
         "False: once a working method exists it is packaged and sold, so its cost is shared by many "
         "attackers: a deepfake tool to pass identity verification is offered to criminals (MITRE "
         "ATLAS AML.CS0034, an incident; technique AML.T0015 Evade AI Model)."),
    Item("b18", "M8", "An attacker who controls 1% of our training data can make our model obey a trigger "
             "while its test accuracy stays the same.",
         True, 1,
         "True: a backdoor leaves clean accuracy intact, and a poisoned fraction of this order is "
         "enough (Gu, Dolan-Gavitt & Garg, BadNets, 2017; lesson 07)."),
    Item("b19", "M1", "Transforming our inputs before the model (JPEG compression, total-variation smoothing) "
             "reliably protects it against adversarial examples.",
         False, 2,
         "False: input transformations (Guo et al., ICLR 2018) fell to an attack that differentiates "
         "through an approximation of the transformation (BPDA; Athalye, Carlini & Wagner, ICML 2018; "
         "lesson 09)."),
    Item("b20", "M6", "The components around our model - input checks, thresholds, human review - can make the "
             "deployed system weaker or stronger than the model measured alone.",
         True, 1,
         "True: a phishing detector's visual model was evaded while other components still caught the "
         "pages (MITRE ATLAS AML.CS0032, an incident); lesson 02 measures an attack on the workflow, "
         "not on the model."),
    Item("b21", "M5", "Reviewing who accessed our model's endpoint would reveal an attacker who is extracting "
             "our model.",
         False, 2,
         "False: extraction queries come from authorised accounts and look like use; one campaign "
         "spread its queries over about 24,000 accounts (MITRE ATLAS AML.CS0056; lesson 08)."),
    Item("b22", "M3", "When our labelling is outsourced, the harm from mislabelled or poisoned labels in our "
             "model still falls on us.",
         True, 1,
         "True: the labels become your model's behaviour; outsourcing moves the work, not the "
         "consequence, so the checks on labels (audits, agreement between labellers) are your control "
         "(lesson 07)."),
    Item("b23", "M4", "Because our model has run for two years without a known incident, its risk of being "
             "attacked is low.",
         False, 2,
         "False: no known incident is what a successful, unnoticed evasion looks like too; the ID.me "
         "bypass went on for over a year before it was found (MITRE ATLAS AML.CS0017)."),
    Item("b24", "M7", "How robust our model is depends on the attacker's budget, so it is a curve rather than "
             "a single number.",
         True, 1,
         "True: the security evaluation curve plots accuracy against the budget; one number hides "
         "where the model fails (Biggio & Roli, 2018; lessons 01 and 03)."),
    Item("b25", "M6", "Testing our model against adversarial examples also covers the attacks that enter "
             "through our data collection.",
         False, 2,
         "False: poisoning acts before the model exists, through the data; an evasion test of the "
         "finished model never sees it (NIST AI 100-2 E2025; lesson 06)."),
    Item("b26", "M4", "Copying a commercial model's behaviour by querying it at scale has happened against a "
             "real production service.",
         True, 1,
         "True: distillation campaigns of about 16 million queries through about 24,000 accounts "
         "targeted a commercial model (MITRE ATLAS AML.CS0056, an incident; AML.T0024.002 Extract AI "
         "Model)."),
    Item("b27", "M7", "If our model is accurate on a test set collected from real users, it is reliable "
             "against users who try to fool it.",
         False, 2,
         "False: real users drawn at random are not users who choose their inputs against the model; "
         "only an evaluation with an attacker measures that (NIST AI 100-2 E2025; lesson 01)."),
    Item("b28", "M3", "Loading a model file from a trusted vendor needs no checks on our side, because vetting "
             "the file is the vendor's job.",
         False, 2,
         "False: loading a pickled model runs its code on your machine, so the check belongs where it "
         "is loaded; malicious model files reached a major hub (MITRE ATLAS AML.CS0031, an incident; "
         "AML.T0011.000 Unsafe AI Artifacts; lesson 07)."),
    Item("b29", "M1", "If our fraud model sends borderline scores to a human reviewer, an attacker who knows "
             "the review band can aim for scores clearly outside it.",
         True, 1,
         "True: a review band moves the boundary the attacker has to cross, it does not remove it; an "
         "attacker who knows the band keeps changing the input until the score is past it (lesson 05 "
         "measures the review band against that attacker)."),
    Item("b30", "M8", "Randomly flipping the labels of 5% of our training data shows how much damage an "
             "attacker with 5% could do.",
         False, 2,
         "False: random flips are a weak lower bound; points chosen by optimisation do far more "
         "damage with the same share (Biggio, Nelson & Laskov, ICML 2012; lesson 06 measures both)."),
    Item("b31", "M2", "A patient who learns which answers move them up our triage queue has a motive to give "
             "those answers.",
         True, 1,
         "True: the gain (being seen sooner) comes from one specific error of the model, which is all "
         "a motive needs (lesson 05: attacker economics in medical triage)."),
    Item("b32", "M5", "On a fully patched, access-controlled server, a legitimate user can still make our model "
             "misclassify inputs they choose.",
         True, 1,
         "True: evasion uses the model's normal interface, so patching and access control do not touch it; "
         "perturbation attacks 'do not violate the classic notion of access/authorisation' (Kumar et al., "
         "2020; lessons 02 and 05)."),
)

BY_ID = {item.id: item for item in ITEMS}
IDS = tuple(BY_ID)
FORMS = {form: tuple(i.id for i in ITEMS if i.id[0] == form.lower()) for form in ("A", "B")}
PHASE_FORM = {"before": "A", "after": "B"}
DIFFICULTY = {1: "easier", 2: "harder"}


def form_items(form: str) -> tuple:
    """The items of one form ("A" or "B"), in the order of presentation."""
    if form not in FORMS:
        raise ValueError(f"form must be one of {sorted(FORMS)}; got {form!r}")
    return tuple(BY_ID[i] for i in FORMS[form])


def halves(form: str = "A") -> dict:
    """"first" / "second" -> the item ids of each half of a form (each half covers all eight misconceptions)."""
    ids = tuple(i.id for i in form_items(form))
    return {"first": ids[:len(ids) // 2], "second": ids[len(ids) // 2:]}


HALVES = halves("A")


def form_of(answers_or_ids) -> str:
    """The form whose items `answers_or_ids` (an answers dict or a list of ids) hold; "A" if none is known.

    ValueError when they mix the two forms."""
    keys = answers_or_ids if not isinstance(answers_or_ids, dict) else list(answers_or_ids)
    found = {form for form, ids in FORMS.items() for k in keys if k in ids}
    if len(found) > 1:
        raise ValueError("the answers mix items of forms A and B: one answer set holds one form")
    return found.pop() if found else "A"


def n_items() -> int:
    """How many statements a form holds per misconception (the same number for each, on both forms)."""
    return len(items_of(next(iter(MISCONCEPTIONS)), "A"))


def items_of(misconception: str, form: str | None = None) -> list:
    """The items that probe one misconception ("M1" ... "M8"), on one form ("A", "B") or on both (None)."""
    if misconception not in MISCONCEPTIONS:
        raise ValueError(f"unknown misconception {misconception!r}; known: {sorted(MISCONCEPTIONS)}")
    pool = ITEMS if form is None else form_items(form)
    return [item for item in pool if item.misconception == misconception]


def misconceptions_of(ids) -> list:
    """The misconceptions that the given items probe, in catalogue order."""
    wanted = {BY_ID[i].misconception for i in ids}
    return [m for m in MISCONCEPTIONS if m in wanted]


def _part(part, form: str) -> tuple:
    if part is None:
        return FORMS[form] if form in FORMS else form_items(form)
    parts = halves(form)
    if part not in parts:
        raise ValueError(f"part must be one of {sorted(parts)} or None; got {part!r}")
    return parts[part]


# --------------------------------------------------------------------------- the questionnaire
def show(part=None, form: str = "A") -> None:
    """Print a form's statements (all, or one half: "first" / "second") with their ids and the confidence scale."""
    for item_id in _part(part, form):
        print(f"{item_id}  {BY_ID[item_id].statement}")
    scale = ", ".join(f"{k} = {v}" for k, v in CONFIDENCE.items())
    print(f"\nFor each: \"answer\": True or False, and \"confidence\": {scale}.")


def template(part=None, form: str = "A") -> str:
    """The answers dict to fill in, as Python source (every answer None)."""
    lines = ["answers = {"]
    lines += [f'    "{i}": {{"answer": None, "confidence": None}},' for i in _part(part, form)]
    lines.append("}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- validation
def _is_bool(value) -> bool:
    return type(value) is bool or type(value).__name__ == "bool_"  # numpy.bool_ as well


def _is_confidence(value) -> bool:
    return type(value) is int and value in CONFIDENCE or (
        type(value).__name__.startswith("int") and not _is_bool(value) and int(value) in CONFIDENCE
    )


def problems(answers, ids=None) -> list:
    """Everything that keeps `answers` from being a complete, valid set for the items `ids` (default: the whole
    form that the answers' ids belong to).

    Returns a list of short sentences, empty when every item in `ids` has a valid answer and
    confidence and no key is unknown.
    """
    if not isinstance(answers, dict):
        return [f"answers must be a dict of item id -> {{'answer': ..., 'confidence': ...}}; "
                f"got {type(answers).__name__}"]
    found = []
    try:
        form = form_of(ids if ids is not None else answers)
    except ValueError as e:
        return [str(e)]
    ids = FORMS[form] if ids is None else tuple(ids)
    unknown = sorted(str(k) for k in answers if k not in FORMS[form])
    if unknown:
        found.append(f"unknown item id(s) {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}: "
                     f"the ids of form {form} are {FORMS[form][0]} ... {FORMS[form][-1]}")
    missing, unanswered, bad = [], [], []
    for item_id in ids:
        if item_id not in answers:
            missing.append(item_id)
            continue
        entry = answers[item_id]
        if not isinstance(entry, dict):
            bad.append(f"{item_id} must be a dict like {{\"answer\": True, \"confidence\": 3}}; "
                       f"got {type(entry).__name__}")
            continue
        extra = sorted(str(k) for k in entry if k not in ("answer", "confidence"))
        if extra:
            bad.append(f"{item_id} has unknown key(s) {extra}: only \"answer\" and \"confidence\"")
        ans, conf = entry.get("answer"), entry.get("confidence")
        if ans is None or conf is None:
            unanswered.append(item_id)
            continue
        if not _is_bool(ans):
            bad.append(f"{item_id}: \"answer\" must be True or False; got {ans!r}")
        if not _is_confidence(conf):
            bad.append(f"{item_id}: \"confidence\" must be 1, 2, 3 or 4; got {conf!r}")
    if missing:
        found.append(f"missing item(s) {', '.join(missing)}")
    if unanswered:
        found.append(f"not answered yet (None): {', '.join(unanswered)}")
    return found + bad


def validate(answers, ids=None) -> dict:
    """A clean copy of `answers` (plain bools and ints) for the items `ids`; ValueError listing every problem."""
    found = problems(answers, ids)
    if found:
        raise ValueError("the answers are not complete and valid:\n  - " + "\n  - ".join(found))
    ids = FORMS[form_of(answers)] if ids is None else tuple(ids)
    return {i: {"answer": bool(answers[i]["answer"]), "confidence": int(answers[i]["confidence"])} for i in ids}


def _valid_entries(answers) -> dict:
    """The entries of `answers` that are valid, cleaned; everything else is dropped (for lenient scoring)."""
    if not isinstance(answers, dict):
        return {}
    clean = {}
    for item_id, entry in answers.items():
        if item_id in BY_ID and isinstance(entry, dict) and not problems({item_id: entry}, [item_id]):
            clean[item_id] = {"answer": bool(entry["answer"]), "confidence": int(entry["confidence"])}
    return clean


# --------------------------------------------------------------------------- scoring
def correct(answers) -> dict:
    """item id -> whether it was answered correctly (valid answers only)."""
    return {i: e["answer"] == BY_ID[i].answer for i, e in _valid_entries(answers).items()}


def score(answers, form: str | None = None) -> dict:
    """Per misconception, the share of its items on the answers' form answered correctly (unweighted;
    unanswered = not correct). The form is the one the answers' ids belong to, unless given."""
    right = correct(answers)
    form = form or form_of(answers)
    return {m: sum(right.get(it.id, False) for it in items_of(m, form)) / len(items_of(m, form))
            for m in MISCONCEPTIONS}


def summary(answers) -> list:
    """One row per misconception: (id, belief, share correct, items, ids answered wrongly at confidence >= 3)."""
    valid = _valid_entries(answers)
    right = correct(answers)
    form = form_of(answers)
    shares = score(answers, form)
    rows = []
    for m, belief in MISCONCEPTIONS.items():
        its = items_of(m, form)
        firm = [it.id for it in its if it.id in valid and not right[it.id] and valid[it.id]["confidence"] >= FIRM]
        rows.append((m, belief, shares[m], len(its), firm))
    return rows


class ResultTable:
    """A small table with the belief names in full: HTML in a notebook, wrapped plain text elsewhere."""

    def __init__(self, header: list, rows: list, wrap: int = 64):
        self.header, self.rows, self.wrap = list(header), [list(map(str, r)) for r in rows], wrap

    def _repr_html_(self) -> str:
        from html import escape

        head = "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{escape(c)}</td>" for c in r) + "</tr>"
                       for r in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __str__(self) -> str:
        import textwrap

        cols = list(zip(self.header, *self.rows))
        widths = [max(len(c) for c in col) for col in cols]
        widths[1] = min(widths[1], self.wrap)  # the belief column wraps instead of being cut
        lines = []
        for row in [self.header, *self.rows]:
            cells = [textwrap.wrap(c, w) or [""] if k == 1 else [c] for k, (c, w) in enumerate(zip(row, widths))]
            for i in range(max(len(c) for c in cells)):
                lines.append("  ".join((c[i] if i < len(c) else "").ljust(w) for c, w in zip(cells, widths)).rstrip())
        return "\n".join(lines)

    __repr__ = __str__


def show_table(header: list, rows: list) -> None:
    """Show a ResultTable: displayed in a notebook (as HTML), printed elsewhere."""
    table = ResultTable(header, rows)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with the course
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None and hasattr(get_ipython(), "kernel"):
        display(table)
    else:
        print(table)


def show_result(answers) -> dict:
    """Print and draw your share of correct answers per misconception; return the scores.

    Which items were right is not shown: parallel items (form B) come back at the end of the course, and
    the explanations of both forms with them (`after`).
    """
    if _incomplete(answers, "Your answers are not complete yet, so there is no result to show:"):
        return {}
    show_table(["", "belief", "correct", "held firmly but wrong"],
               [(m, belief, f"{round(share * n):d} of {n}", str(len(firm) or "")) for m, belief, share, n, firm in summary(answers)])
    scores = score(answers)
    plots.belief_comparison(scores, n_items=n_items(), title="Your mental-model check")
    return scores


def _incomplete(answers, heading: str) -> bool:
    """Print what is missing from an answer set under `heading`; True when something is."""
    found = problems(answers)
    if found:
        print(heading)
        for p in found:
            print("  -", p)
    return bool(found)


# --------------------------------------------------------------------------- saving
def writing_disabled() -> str:
    """Why nothing may be written to the learner's files now ("" if it may): nbgrader grading, or the course's
    own tools running the notebook. Shared by every module that saves a learner's answers or predictions."""
    if os.environ.get("NBGRADER_EXECUTION"):
        return "this notebook is being graded by nbgrader"
    if os.environ.get("COURSE_NO_SELF_CHECK"):
        return "the course's own tools are running it (COURSE_NO_SELF_CHECK is set)"
    return ""


def learner_folder(variable: str, default: str) -> Path:
    """A folder of the learner's own files: $variable if set, else <workspace>/<default>, where the workspace is
    $COURSE_WORKSPACE (where run.py put the learner's copies) or my-work/ under the repository root."""
    workspace = os.environ.get("COURSE_WORKSPACE") or str(ROOT / "my-work")
    return Path(os.environ.get(variable) or str(Path(workspace) / default)).expanduser()


def write_json(target: Path, record: dict) -> None:
    """Write a small JSON file atomically (a temporary file in the same folder, then renamed)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".json", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
    os.replace(tmp, target)


def _check_phase(phase: str) -> None:
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}; got {phase!r}")


def path_for(phase: str) -> Path:
    """Where the answers of a phase are kept: my-work/.beliefs/<phase>.json (or $COURSE_BELIEFS_DIR/<phase>.json;
    in a workspace run.py placed elsewhere, $COURSE_WORKSPACE/.beliefs/<phase>.json)."""
    _check_phase(phase)
    return learner_folder(DIR_VARIABLE, ".beliefs") / f"{phase}.json"


def save(answers, phase: str = "before", path=None):
    """Keep complete answers in a small JSON file (see the module's docstring); return its path.

    Returns None, with a printed reason, when nothing was written: while nbgrader grades, while the
    course's tools run the notebook, or when the answers are incomplete.
    """
    _check_phase(phase)
    reason = writing_disabled()
    if reason:
        print(f"(answers not saved: {reason})")
        return None
    found = problems(answers)
    if found:
        print("(answers not saved: they are not complete yet - " + "; ".join(found) + ")")
        return None
    clean = validate(answers)
    target = Path(path) if path is not None else path_for(phase)
    target.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "format": FORMAT,
        "version": VERSION,
        "phase": phase,
        "form": form_of(clean),
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "answers": clean,
        "scores": {m: round(s, 3) for m, s in score(clean).items()},
    }
    write_json(target, record)
    print(f"Saved your answers as '{phase}' in {target}")
    return target


def load(phase: str = "before", path=None) -> dict:
    """The answers saved for a phase (FileNotFoundError, with where it looked, if there are none)."""
    _check_phase(phase)
    source = Path(path) if path is not None else path_for(phase)
    if not source.is_file():
        raise FileNotFoundError(f"no saved '{phase}' answers at {source}")
    try:
        record = json.loads(source.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{source} is not a saved answers file ({e})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT or not isinstance(record.get("answers"), dict):
        raise ValueError(f"{source} is not a saved answers file (format {FORMAT!r} expected)")
    if record.get("version", 1) < VERSION or any(k not in BY_ID for k in record["answers"]):
        raise ValueError(f"{source} holds answers to an older version of the check, whose items were replaced")
    return record["answers"]


# --------------------------------------------------------------------------- before and after
def compare(before, after) -> dict:
    """misconception -> (share correct before, share correct after, change). The two answer sets may hold
    different forms (A before, B after): they are compared per misconception, never item by item."""
    b, a = score(before), score(after)
    return {m: (b[m], a[m], a[m] - b[m]) for m in MISCONCEPTIONS}


def explain(answers, only_wrong: bool = True) -> None:
    """Print each item's correct answer and explanation (by default only those answered wrongly)."""
    right = correct(answers)
    for item in form_items(form_of(answers)):
        if only_wrong and right.get(item.id, False):
            continue
        print(f"{item.id} [{item.misconception}] {item.statement}\n      {item.explanation}\n")


def after(answers, before=None) -> dict:
    """The end-of-course check in one call: save as "after", compare with "before", draw, explain.

    `before` defaults to the answers saved by exercise 00 (`load("before")`). Returns
    `compare(before, answers)`, or the plain scores when no "before" is found.
    """
    if _incomplete(answers, "Your answers are not complete yet:"):
        return {}
    save(answers, phase="after")
    if before is None:
        try:
            before = load("before")
        except (FileNotFoundError, ValueError) as e:
            print(f"No 'before' to compare with ({e}); your result now:")
            scores = show_result(answers)
            explain(answers)
            return scores
    result = compare(before, answers)
    rows = []
    for m, (b, a, _) in result.items():
        n = n_items()
        rows.append((m, MISCONCEPTIONS[m], f"{round(b * n)}/{n}", f"{round(a * n)}/{n}"))
    show_table(["", "belief", "before", "after"], rows)
    plots.belief_comparison(score(before), score(answers), n_items=n_items())
    print("\nThe items you answered wrongly this time, with the evidence:\n")
    explain(answers)
    print("\nAnd those of exercise 00 you answered wrongly then:\n")
    explain(before)
    return result


# --------------------------------------------------------------------------- a cohort
def aggregate(list_of_answers, *, detail: bool = False) -> dict:
    """A cohort's share of correct answers per misconception, pooled over every valid answer given.

    Invalid or unknown entries are ignored; a misconception nobody answered gets NaN. With
    `detail=True`, each value is a dict with "share_correct", "answers" (how many were pooled),
    "learners" (how many answered at least one of its items) and "firmly_wrong" (share of its
    answers that were wrong at confidence >= 3).
    """
    pooled = {m: [0, 0, 0, 0] for m in MISCONCEPTIONS}  # right, answered, learners, firmly wrong
    for answers in list_of_answers:
        valid = _valid_entries(answers)
        seen = set()
        for item_id, entry in valid.items():
            m = BY_ID[item_id].misconception
            ok = entry["answer"] == BY_ID[item_id].answer
            pooled[m][0] += ok
            pooled[m][1] += 1
            pooled[m][3] += (not ok) and entry["confidence"] >= FIRM
            seen.add(m)
        for m in seen:
            pooled[m][2] += 1
    out = {}
    for m, (right, n, learners, firm) in pooled.items():
        share = right / n if n else math.nan
        out[m] = {"share_correct": share, "answers": n, "learners": learners,
                  "firmly_wrong": firm / n if n else math.nan} if detail else share
    return out


def item_statistics(list_of_answers) -> dict:
    """Per item answered by a cohort: (learners, difficulty, discrimination), classical test theory.

    difficulty is the share of the learners who answered it correctly (high = easy); discrimination is the
    corrected item-total correlation: the Pearson correlation, over the learners, between being right on
    this item and the share right on the other items of the same form (NaN when either does not vary).
    Only complete, valid answer sets count.
    """
    stats = {}
    for form, ids in FORMS.items():
        rows = []
        for answers in list_of_answers:
            if isinstance(answers, dict) and answers and not problems(answers, ids):
                right = correct(answers)
                rows.append([float(right[i]) for i in ids])
        if not rows:
            continue
        n, k = len(rows), len(ids)
        for j, item_id in enumerate(ids):
            x = [r[j] for r in rows]
            rest = [(sum(r) - r[j]) / (k - 1) for r in rows]
            mx, mr = sum(x) / n, sum(rest) / n
            sxy = sum((a - mx) * (b - mr) for a, b in zip(x, rest))
            sxx, syy = sum((a - mx) ** 2 for a in x), sum((b - mr) ** 2 for b in rest)
            disc = sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else math.nan
            stats[item_id] = (n, mx, disc)
    return stats
