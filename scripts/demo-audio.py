#!/usr/bin/env python3
"""Generates the demo call of `make run`: a short dialogue between a customer
and an agent, spoken by espeak-ng, as two 8 kHz 16-bit mono WAVs (the two legs
callrec-callgen sends), plus a timeline of who says what when.

Half-way the agent announces the payment and, after a pause long enough to
press Pause, the customer reads out a card number; the agent confirms a few
seconds after it ends. A listener of the recording should hear none of it when
the agent paused in time.

espeak-ng writes 22.05 kHz; the resampler below is a windowed-sinc low-pass
(cut-off 3.6 kHz, Blackman window) evaluated at each 8 kHz output instant, so
no component above 4 kHz folds back into the call band. Pure standard library
(audioop is deprecated and leaves aliasing in).

Usage: demo-audio.py OUTPUT_DIR   (writes customer.wav, agent.wav, timeline.json)
"""

import array
import json
import math
import operator
import os
import subprocess
import sys
import tempfile
import wave

RATE = 8000
GAP = 0.7  # s of silence between turns
CUSTOMER_VOICE = ["-v", "en-us+f3", "-s", "150", "-p", "60"]
AGENT_VOICE = ["-v", "en-gb+m3", "-s", "155", "-p", "40"]

# (speaker, text, seconds of silence after it). The card number is read with
# pauses between the groups so it takes a realistic while.
DIALOGUE = [
    ("agent", "Thank you for calling Example Bank. This is Sam. How can I help you today?", GAP),
    ("customer", "Hi Sam. I would like to pay the balance on my credit card, please.", GAP),
    ("agent", "Of course. Can I have your name and date of birth?", GAP),
    ("customer", "It's Alex Morgan, born on the third of May, nineteen eighty five.", GAP),
    ("agent", "Thank you, Alex. Lovely weather today, isn't it?", GAP),
    ("customer", "It is! First sunny weekend in ages. I'm off to the park later.", GAP),
    ("agent", "That sounds great. Now, for the payment, I will need your card number. "
              "Go ahead whenever you are ready.", 4.0),
    ("customer", "Sure. It is four one one one. One one one one. One one one one. "
                 "One one one one.", 4.0),
    ("agent", "Thank you. The payment of forty two pounds has gone through.", GAP),
    ("customer", "Brilliant, thanks for your help.", GAP),
    ("agent", "You are welcome. Is there anything else I can do for you today?", GAP),
    ("customer", "No, that's everything. Goodbye!", GAP),
    ("agent", "Goodbye, and enjoy the park.", 6.0),
]
CARD_TURN = 7  # index of the customer's card number in DIALOGUE


def speak(voice, text):
    """espeak-ng's WAV of `text` -> (samples as floats in [-1, 1], rate)."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(["espeak-ng"] + voice + ["-w", tmp.name, text], check=True)
        with wave.open(tmp.name, "rb") as w:
            if w.getsampwidth() != 2 or w.getnchannels() != 1:
                raise SystemExit("espeak-ng wrote an unexpected format")
            rate = w.getframerate()
            samples = array.array("h")
            samples.frombytes(w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    return [s / 32768.0 for s in samples], rate


def resampler(rate_in, rate_out, half_width=16, cutoff=3600.0):
    """A function resampling a list of floats from rate_in to rate_out."""
    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g  # output n is input position n*down/up
    fc = cutoff / rate_in  # cycles per input sample
    phases = []
    for p in range(up):
        frac = p / up
        taps = []
        for j in range(-half_width + 1, half_width + 1):
            u = j - frac  # distance from the output instant, in input samples
            sinc = 2 * fc if u == 0 else math.sin(2 * math.pi * fc * u) / (math.pi * u)
            x = (u + half_width) / (2 * half_width)  # 0..1 across the window
            window = 0.42 - 0.5 * math.cos(2 * math.pi * x) + 0.08 * math.cos(4 * math.pi * x)
            taps.append(sinc * window)
        phases.append(taps)

    def run(samples):
        padded = [0.0] * half_width + samples + [0.0] * (half_width + 1)
        count = len(samples) * up // down
        out = []
        for n in range(count):
            k0, p = divmod(n * down, up)
            start = k0 + 1  # padded index of input sample k0 - half_width + 1
            out.append(sum(map(operator.mul, phases[p], padded[start:start + 2 * half_width])))
        return out

    return run


def write_wav(path, samples):
    pcm = array.array("h", (max(-32767, min(32767, int(round(s * 32767)))) for s in samples))
    if sys.byteorder == "big":
        pcm.byteswap()
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    resample = None
    turns = []
    t = 1.0  # a second of silence before the agent's greeting
    for index, (speaker, text, gap) in enumerate(DIALOGUE):
        raw, rate = speak(AGENT_VOICE if speaker == "agent" else CUSTOMER_VOICE, text)
        if resample is None:
            resample = resampler(rate, RATE)
        clip = resample(raw)
        turns.append({"speaker": speaker, "text": text, "start": round(t, 2),
                      "end": round(t + len(clip) / RATE, 2), "samples": clip,
                      "card_number": index == CARD_TURN})
        t += len(clip) / RATE + gap
    total = int(math.ceil(t * RATE))
    tracks = {"customer": [0.0] * total, "agent": [0.0] * total}
    peak = max(max(abs(s) for s in turn["samples"]) for turn in turns) or 1.0
    gain = 0.7 / peak
    for turn in turns:
        track = tracks[turn["speaker"]]
        offset = int(turn["start"] * RATE)
        for i, s in enumerate(turn.pop("samples")):
            track[offset + i] = s * gain
    write_wav(os.path.join(out_dir, "customer.wav"), tracks["customer"])
    write_wav(os.path.join(out_dir, "agent.wav"), tracks["agent"])
    with open(os.path.join(out_dir, "timeline.json"), "w") as f:
        json.dump({"duration": round(total / RATE, 2), "turns": turns}, f, indent=1)
    card = turns[CARD_TURN]
    print("demo audio: %.0f s, card number read at %.1f-%.1f s -> %s"
          % (total / RATE, card["start"], card["end"], out_dir))


if __name__ == "__main__":
    main()
