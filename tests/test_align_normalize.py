"""Normalisation of names, quotes and figures (livedesk.align.normalize)."""

from livedesk.align import normalize
from livedesk.align.normalize import fold, name_key, names, numbers, quotes


def test_transliteration_and_hyphen_variants_share_one_key():
    assert name_key("Kim Jong-un") == name_key("Kim Jong Un") == name_key("KIM JONGUN")
    assert name_key("Aleksandr") == name_key("Alexander")
    assert name_key("Zelensky") == name_key("Zelenskyy")
    assert name_key("Putin") != name_key("Kim")


def test_long_and_short_forms_of_a_name_meet():
    long_form = names(fold("Talks were held at the Far Eastern Federal University with Vladimir Putin."))
    short_form = names(fold("FEFU hosted Putin."))
    assert name_key("FEFU") in long_form
    assert name_key("Putin") in long_form & short_form


def test_curly_and_straight_quotes_are_equal_and_carry_a_speaker():
    curly = quotes("“We will rebuild the pier,” Mayor Ilsa Brand said.")
    straight = quotes('"We will rebuild the pier," Mayor Ilsa Brand said.')
    assert [q.text for q in curly] == [q.text for q in straight] == ["We will rebuild the pier"]
    assert curly[0].speaker == "Ilsa Brand"
    assert quotes('Asked about it, Tomas Reed said "no comment" and left.')[0].speaker == "Tomas Reed"


def test_translated_wordings_meet_on_stems_and_synonyms():
    a = set(normalize.content_words(fold("We are all pleased with the outcome of the talks")))
    b = set(normalize.content_words(fold("All of us are satisfied with the results of the negotiations")))
    assert a == b


def test_figures_in_words_and_digits_agree():
    assert ("hour", 3.5) in numbers("They lasted about three and a half hours.")
    assert ("hour", 3.5) in numbers("The talks took 3.5 hours")
    assert ("home", 52000.0) in numbers("52,000 homes are without power")
    assert numbers("in 2019 and again in 2020") == set()


def test_number_words_are_read_in_the_texts_own_language():
    from livedesk.align.normalize import language

    english = "The elf went home at night with the others"  # German "elf" is eleven
    assert language(english) == "en"
    assert numbers(english, language(english)) == set()
    german = "Sechs Taucher und acht Wochen mit der Polizei"
    assert {v for _, v in numbers(german, language(german))} == {6.0, 8.0}
    # a text too short to tell its language is read in every language
    assert {v for _, v in numbers("dodici ragazzi")} == {12.0}
