"""The answer keys of exercise 02 (threat modelling the TriageAssist workflow): a bank of scenario variants.

Each slot (T1-T10, I1-I6) has its public variant (the slot's own id: what the public solution answers) and
others, with other answers (`course.checks.variants` picks one per slot from the release seed). A threat
variant: its text, its kind, where it enters (AML threats), the controls that stop it, the controls graded as
not stopping it (the rest are judgement calls), the path it takes (which explanation a confusion gets), and
for a threat that some control stops, the hint a learner who missed it gets.
"""
from __future__ import annotations

CONTROLS = ("access_control", "encryption", "patching", "rate_limit", "input_validation", "human_review", "provenance")
_ALL = frozenset(CONTROLS)


def _aml(text, stage, path, stops=(), judged=()):
    stops = frozenset(stops)
    return {"text": text, "kind": "aml", "stage": frozenset(stage), "stops": stops,
            "graded_not": _ALL - stops - frozenset(judged), "path": path, "miss": None}


def _classic(text, path, stops=(), miss=None):
    return {"text": text, "kind": "classic", "stage": None, "stops": frozenset(stops), "graded_not": frozenset(),
            "path": path, "miss": miss}


def _both(text, stops, miss):
    stops = frozenset(stops)
    return {"text": text, "kind": "both", "stage": None, "stops": stops, "graded_not": _ALL - stops, "path": "artefact",
            "miss": miss}


THREAT_VARIANTS = {
    # ---- public variants (the public solution answers these) ----
    "T1": _aml("Patients share on a forum which answers in the app get you seen faster; others copy them.",
               {"deployment"}, "api", judged={"human_review"}),  # review of borderline cases catches some evasions
    "T2": _aml("A partner clinic's key sends 150,000 varied queries over three months (about 1,650 a day) and trains "
               "its own copy of TriageAssist to sell.", {"deployment"}, "api"),
    "T3": _classic("An intruder exploits a known, unpatched flaw in the training server's web dashboard and copies the "
                   "training code and the model weights.", "breach", {"patching"},
                   "the intruder came in through a known flaw that was never fixed: classic controls still matter for "
                   "classic threats - which one closes it?"),
    "T4": _classic("A backup disk holding the training records is lost in transit.", "loss", {"encryption"},
                   "whoever finds a lost backup reads it, unless a control makes it useless to them: which one?"),
    "T5": _aml("An insurer with a partner key sends what it knows about a job applicant's emergency visit and reads the "
               "returned probability to tell whether that visit is in the training data.", {"deployment"}, "api"),
    "T6": _aml("A few clinicians who disagree with a new policy override \"urgent\" to \"routine\" on the feedback screen "
               "for one group of patients, every time; each monthly retraining learns it.",
               {"retraining", "labelling"}, "feedback"),
    "T7": _aml("MedBase learned, from data someone planted on the web, to score notes that contain a rare phrase as "
               "confidently non-urgent; the vendor did not notice and signed the model.", {"sources"}, "supply"),
    "T8": _both("A data scientist loads a model file from a public hub to compare with MedBase; it is a pickle that runs "
                "a hidden command when loaded.", {"provenance"},
                "a booby-trapped model file runs when it is loaded: which control decides what gets loaded, and in what "
                "format? (take care of ML and non-ML security together)"),
    "T9": _classic("A botnet floods the prediction API with requests during a city-wide emergency.", "flood"),
    "T10": _aml("The broker's dataset contains thousands of visits fabricated by a competitor to make the model less "
                "accurate.", {"sources", "collection"}, "supply"),
    # ---- other variants (private releases) ----
    "T1b": _classic("An attacker uses a flaw published two months ago in the TLS library of the hospital's app server, "
                    "never patched, to read other users' session data from its memory.", "breach", {"patching"},
                    "the attacker used a published flaw that the monthly patch closes: which control is that?"),
    "T1c": _aml("A partner clinic learns which words in intake notes make TriageAssist rank a patient as urgent, and "
                "writes them into every note it sends.", {"deployment"}, "api", judged={"human_review"}),
    "T2b": _classic("An outsider with no account guesses the address of the model server's admin page and tries to "
                    "download the model weights from it.", "breach", {"access_control"},
                    "an outsider without an account tried a page that needs one: which control decides who gets in?"),
    "T2c": _aml("A start-up buys a partner key and over a year sends 400,000 synthetic cases (about 1,100 a day) to "
                "train a triage model of its own on TriageAssist's answers.", {"deployment"}, "api"),
    "T3b": _classic("A nurse's laptop holding this month's feedback export is stolen from a car.", "loss",
                    {"encryption"},
                    "whoever steals a laptop reads its disk, unless a control makes it useless to them: which one?"),
    "T3c": _aml("A patient advocate tries misspellings and unusual phrasings of chest pain in the app until "
                "TriageAssist ranks them as urgent, and posts the ones that work.", {"deployment"}, "api",
                judged={"human_review"}),
    "T4b": _classic("An attacker signs in with the password of a former nurse, leaked from another website; the "
                    "account was never closed.", "breach", {"access_control"},
                    "a leaked password alone does not get through single sign-on with MFA: which control is that?"),
    "T4c": _classic("A worm spreads through a flaw published three months ago in the servers' operating system and "
                    "encrypts the training server's files for ransom.", "breach", {"patching"},
                    "the worm needs a known flaw that was never fixed: which control closes it?"),
    "T5b": _classic("A partner clinic's misconfigured script resends the same request in an endless loop, 50,000 "
                    "times a day, from its key.", "flood", {"rate_limit"},
                    "one key's runaway traffic is what a per-key daily limit caps: which control is that?"),
    "T5c": _aml("A lawyer with a partner key sends the details of a suspected visit by their client's former partner "
                "and reads the returned probability to learn whether that visit is in the training data.",
                {"deployment"}, "api"),
    "T6b": _aml("A rival triage vendor bribes the agency that labels the hospital's historical records to mark one "
                "complaint \"routine\" whatever the outcome was; the labels go into the next training.",
                {"labelling"}, "feedback"),
    "T6c": _classic("An administrator who was dismissed deletes the feedback database with a login that was never "
                    "revoked, the night before retraining.", "breach"),
    "T7b": _aml("A patient group fills in the app's questionnaire for hundreds of invented visits in which one rare "
                "phrase always comes with a non-urgent outcome; the records are collected for the next training.",
                {"collection"}, "feedback"),
    "T7c": _aml("An attacker replaces MedBase on MedVendor's hub by a backdoored file of the same name, with another "
                "hash and no valid signature; the next fine-tuning would load it.", {"sources"}, "supply",
                stops={"provenance"}),
    "T8b": _both("A colleague emails a \"fine-tuned MedBase\" as a .pkl file; loading it to evaluate it opens a "
                 "connection to an outside server.", {"provenance"},
                 "a model file that runs code when it is loaded: which control decides what gets loaded, and in what "
                 "format? (take care of ML and non-ML security together)"),
    "T8c": _classic("A developer copies the training records to a personal cloud folder that is shared publicly by "
                    "mistake.", "loss"),
    "T9b": _aml("An insurer with a partner key sends 10,000 varied cases to find which answers in the app change the "
                "urgency most, and sells the list to patients.", {"deployment"}, "api", judged={"human_review"}),
    "T9c": _classic("A single stolen partner key is used to send 100,000 requests an hour to the prediction API.",
                    "flood", {"rate_limit"},
                    "a flood from one key is what a per-key daily limit caps: which control is that?"),
    "T10b": _aml("Bots fill in the app's symptom questionnaire with thousands of fabricated visits, which enter the "
                 "training data as new records.", {"collection"}, "feedback"),
    "T10c": _classic("A thief takes a printed list of next week's surgery patients from a ward desk.", "loss"),
}
THREAT_VARIANTS["T7c"]["miss"] = ("a file with another hash and no valid signature is refused before it is loaded: which "
                                  "control does that?")
THREAT_BANK = {f"T{i}": tuple(v for v in (f"T{i}", f"T{i}b", f"T{i}c") if v in THREAT_VARIANTS) for i in range(1, 11)}

INCIDENT_VARIANTS = {
    "I1": ({"goal": "integrity", "knowledge": "black-box", "time": "deployment"},
           "(MITRE ATLAS AML.CS0008) An email-protection product wrote its model's scores into the headers of delivered "
           "emails. Researchers sent many emails through it, trained their own copy on the scores, and used the copy "
           "to craft emails that the real filter let through."),
    "I2": ({"goal": "integrity", "knowledge": "black-box", "time": "training"},
           "(MITRE ATLAS AML.CS0009) A chatbot learned from its conversations with the public. Coordinated users sent "
           "it offensive language until it produced such content for other users; it was taken down within 24 hours."),
    "I3": ({"goal": "integrity", "knowledge": "grey-box", "time": "deployment"},
           "A competitor downloads MedBase, computes with its gradients small changes to intake notes that flip "
           "MedBase's urgency, and finds that most of them also flip TriageAssist's — without ever seeing "
           "TriageAssist's fine-tuned weights."),
    "I4": ({"goal": "integrity", "knowledge": "white-box", "time": "training"},
           "A departing ML engineer who has the training data, the code and the current weights crafts a few hundred "
           "records so that next month's model scores one rare presentation as non-urgent."),
    "I5": ({"goal": "availability", "knowledge": "black-box", "time": "training"},
           "Malware on some department workstations submits thousands of random overrides through the feedback "
           "screen, so that next month's model is wrong for every kind of patient."),
    "I6": ({"goal": "privacy", "knowledge": "black-box", "time": "deployment"},
           "The insurer of T5: it sends what it knows about an applicant's visit and reads the returned probability "
           "to tell whether the visit is in the training data."),
    "I1b": ({"goal": "privacy", "knowledge": "black-box", "time": "deployment"},
            "A rival company sends millions of images to a public image-labelling API and trains its own model on the "
            "answers, to sell a cheaper service."),
    "I1c": ({"goal": "integrity", "knowledge": "white-box", "time": "deployment"},
            "Researchers with the weights of an open-source speech model compute, with its gradients, audio that it "
            "transcribes as a command while people hear only music."),
    "I2b": ({"goal": "availability", "knowledge": "black-box", "time": "training"},
            "Users of a recommendation app coordinate to rate thousands of items at random, so that the retrained "
            "recommender becomes useless for everyone."),
    "I2c": ({"goal": "integrity", "knowledge": "grey-box", "time": "training"},
            "A spammer who knows which public pretrained model a spam filter was fine-tuned from, but not the filter "
            "itself, marks their own spam \"not spam\" through its feedback button until emails naming their brand "
            "pass."),
    "I3b": ({"goal": "privacy", "knowledge": "grey-box", "time": "deployment"},
            "Knowing that TriageAssist was fine-tuned from MedBase, a researcher uses MedBase to pick queries that "
            "tell, from TriageAssist's returned probabilities, whether a given visit was in its training data."),
    "I3c": ({"goal": "integrity", "knowledge": "black-box", "time": "deployment"},
            "Patients share on a forum which answers in the app get you seen faster; others copy them."),
    "I4b": ({"goal": "availability", "knowledge": "white-box", "time": "training"},
            "A departing ML engineer, who has the data, the code and the weights, adds a few thousand mislabelled "
            "records so that next month's model is wrong for every kind of patient."),
    "I4c": ({"goal": "privacy", "knowledge": "white-box", "time": "deployment"},
            "A contractor given the model's weights for an audit uses them to reconstruct some of the training "
            "records, and publishes them."),
    "I5b": ({"goal": "integrity", "knowledge": "black-box", "time": "training"},
            "Malware on some department workstations submits overrides through the feedback screen for one rare "
            "presentation only, always to \"non-urgent\", so that next month's model scores it that way."),
    "I6b": ({"goal": "integrity", "knowledge": "black-box", "time": "deployment"},
            "A fraudster tries variations of a phishing email against a webmail's spam filter, from a test account, "
            "until one is delivered, then sends it to thousands of users."),
    "I6c": ({"goal": "privacy", "knowledge": "white-box", "time": "deployment"},
            "A researcher given the weights of a published language model extracts, by prompting it, phone numbers "
            "that it memorised from its training data."),
}
INCIDENT_BANK = {f"I{i}": tuple(v for v in (f"I{i}", f"I{i}b", f"I{i}c") if v in INCIDENT_VARIANTS) for i in range(1, 7)}
