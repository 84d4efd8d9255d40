"""The tokenizer against mistral-common (the reference for chat token ids) and reference §6."""

import hashlib
from pathlib import Path

import pytest

import minimistral
from minimistral import GUARDRAIL_PROMPT, MinimistralError, Tokenizer
from minimistral.tokenizer import TextStream

TOKENIZER = Path(minimistral.__file__).parent / "data" / "tokenizer.model"

mistral_common = pytest.importorskip("mistral_common")


@pytest.fixture(scope="module")
def tok():
    return Tokenizer(TOKENIZER)


def reference_chat_ids(messages, version="v1"):
    from mistral_common.protocol.instruct.messages import (
        AssistantMessage,
        SystemMessage,
        UserMessage,
    )
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    kinds = {"system": SystemMessage, "user": UserMessage, "assistant": AssistantMessage}
    request = ChatCompletionRequest(messages=[kinds[m["role"]](content=m["content"]) for m in messages])
    return getattr(MistralTokenizer, version)().encode_chat_completion(request).tokens


def test_the_bundled_file_is_mistral_commons_v1():
    data = TOKENIZER.read_bytes()
    assert len(data) == 493_443
    assert hashlib.sha256(data).hexdigest() == \
        "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055"
    ref = Path(mistral_common.__file__).parent / "data" / "tokenizer.model.v1"
    assert ref.read_bytes() == data


def test_known_ids_from_reference_section_6(tok):
    assert tok.encode("Hello world") == [1, 22557, 1526]
    assert tok.encode("The cat sat on the mat and saw the dog go to") == \
        [1, 415, 5255, 2495, 356, 272, 1610, 304, 2672, 272, 3914, 576, 298]
    assert (tok.bos_id, tok.eos_id, tok.vocab_size) == (1, 2, 32000)
    assert tok.encode("Hello world", bos=False, eos=True) == [22557, 1526, 2]


@pytest.mark.parametrize("text", ["Hello world", " leading space", "two  spaces and trailing ",
                                  "a\n\nb\ttab", "héllo wörld, 日本語 🙂", "", "<s>not a control</s>",
                                  "x\x00y", "ẞtraße — “quotes” …"])
def test_decode_is_an_exact_round_trip(tok, text):
    assert tok.decode(tok.encode(text)) == text


def test_decode_does_not_eat_letters_next_to_control_tokens(tok):
    # the classic bug: text.strip("<s>") also removes leading/trailing 's', '<' and '>'
    ids = tok.encode("sss>", eos=True)
    assert ids[0] == tok.bos_id and ids[-1] == tok.eos_id
    assert tok.decode(ids) == "sss>"


CONVERSATIONS = {
    "single": [{"role": "user", "content": "What is the capital of France?"}],
    "single_system": [{"role": "system", "content": GUARDRAIL_PROMPT},
                      {"role": "user", "content": "What is the capital of France?"}],
    "multi": [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello. How can I help?"},
              {"role": "user", "content": "Tell me a joke."}, {"role": "assistant", "content": "No."},
              {"role": "user", "content": "Please?"}],
    "multi_system": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi!"},
                     {"role": "assistant", "content": "Hi."}, {"role": "user", "content": "Bye."}],
    "non_ascii": [{"role": "system", "content": "Réponds en français, s'il te plaît."},
                  {"role": "user", "content": "Où est le café ? 日本語も 🙂"},
                  {"role": "assistant", "content": "À côté — ici. Ça va ?"},
                  {"role": "user", "content": "Größe: 5×3 ≥ 15 ✓"}],
    "consecutive_users": [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}],
    "two_systems": [{"role": "system", "content": "S1"}, {"role": "user", "content": "u"},
                    {"role": "system", "content": "S2"}, {"role": "user", "content": "v"}],
    "spaces_kept": [{"role": "user", "content": "  padded  "}],
    "starts_with_assistant": [{"role": "assistant", "content": "I speak first."},
                              {"role": "user", "content": "ok"}],
    "system_only": [{"role": "system", "content": "Be brief."}],
}
# Conversations mistral-common refuses to encode for the model to answer.
REFUSED = {
    "empty": [],
    "ends_with_assistant": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
    "system_after_assistant": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                               {"role": "system", "content": "s"}, {"role": "user", "content": "c"}],
}


@pytest.mark.parametrize("name", list(CONVERSATIONS))
def test_encode_chat_equals_mistral_common_v1(tok, name):
    messages = CONVERSATIONS[name]
    assert tok.encode_chat(messages) == reference_chat_ids(messages, "v1")


def test_encode_chat_reference_ids(tok):
    """<s>[INST] What is the capital of France? [/INST] -> the ids of reference §6."""
    assert tok.encode_chat(CONVERSATIONS["single"]) == \
        [1, 733, 16289, 28793, 1824, 349, 272, 5565, 302, 4843, 28804, 733, 28748, 16289, 28793]


@pytest.mark.parametrize("name", ["single", "multi", "multi_system", "non_ascii"])
def test_encode_chat_equals_mistral_common_v3(name):
    """Instruct v0.3's tokenizer.model.v3: [INST] is a control token, system goes to the last turn."""
    v3 = Tokenizer(Path(mistral_common.__file__).parent / "data" / "mistral_instruct_tokenizer_240323.model.v3")
    assert v3.vocab_size == 32768 and v3.inst_ids == (3, 4)
    messages = CONVERSATIONS[name]
    assert v3.encode_chat(messages) == reference_chat_ids(messages, "v3")


def test_chat_turns_extend_the_previous_prompt(tok):
    """What the chat command feeds per turn is exactly the tail of the full conversation's ids."""
    convo = CONVERSATIONS["multi_system"]
    first = tok.encode_chat(convo[:2])
    answer = tok.encode("Hi.", bos=False)
    following = [tok.eos_id] + tok.encode_user_turn("Bye.")
    assert first + answer + following == tok.encode_chat(convo)


@pytest.mark.parametrize("name", list(REFUSED))
def test_conversations_mistral_common_refuses_are_refused(tok, name):
    from mistral_common.exceptions import InvalidMessageStructureException

    with pytest.raises(InvalidMessageStructureException):
        reference_chat_ids(REFUSED[name])
    with pytest.raises(MinimistralError):
        tok.encode_chat(REFUSED[name])


@pytest.mark.parametrize("bad", [[{"role": "user"}], [{"role": "robot", "content": "x"}], "not a list",
                                 [{"role": ["user"], "content": "x"}], [{"role": "user", "content": 10**5000}]])
def test_bad_messages_are_user_errors(tok, bad):
    with pytest.raises(MinimistralError):
        tok.encode_chat(bad)


def test_guardrail_prompt_is_the_papers_verbatim():
    assert GUARDRAIL_PROMPT == (
        "Always assist with care, respect, and truth. Respond with utmost utility yet securely. "
        "Avoid harmful, unethical, prejudiced, or negative content. Ensure replies promote "
        "fairness and positivity.")


@pytest.mark.parametrize("prompt, text", [("The cat", " sat on the mat, 日本語 🙂 ok"),
                                          ("", "Hello  world\n\nnext"), ("x", "   spaced")])
def test_text_stream_prints_exactly_the_decoded_continuation(tok, prompt, text):
    prompt_ids = tok.encode(prompt)
    ids = tok.encode(prompt + text, bos=True)[len(prompt_ids):] if prompt else tok.encode(text, bos=False)
    stream = TextStream(tok, prompt_ids)
    pieces = [stream.add(i) for i in ids] + [stream.flush()]
    expected = tok.decode(prompt_ids + ids)[len(tok.decode(prompt_ids)):]
    assert "".join(pieces) == expected
    assert "\ufffd" not in "".join(pieces)


def test_text_stream_holds_back_partial_characters(tok):
    stream = TextStream(tok, tok.encode("a"))
    bytes_of_ri = [3 + b for b in "日".encode()]          # byte-fallback ids <0xE6> <0x97> <0xA5>
    assert [stream.add(i) for i in bytes_of_ri] == ["", "", "日"]


def test_model_tokenizer_is_set_when_the_directory_has_one(tmp_path):
    from tiny_checkpoint import write_tiny_native

    d = write_tiny_native(tmp_path / "with")
    assert minimistral.load(d).tokenizer.encode("Hello world") == [1, 22557, 1526]
    (d / "tokenizer.model").unlink()
    assert minimistral.load(d).tokenizer is None
