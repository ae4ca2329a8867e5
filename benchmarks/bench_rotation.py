"""Benchmark the rotation model: training throughput per component, and the rotation's
share of a training step for k in {64, 128, 256, 512} with the exp and Cayley maps.

Run from the repository root:

    python benchmarks/bench_rotation.py            # full: batch 128, 5 repeats
    python benchmarks/bench_rotation.py --quick    # batch 32, 3 repeats

Every figure is the median over repeats of forward + backward (+ AdamW step for whole
models) on random inputs. Times are CPU seconds of this process (``time.process_time``)
with one torch thread by default, so that other processes sharing the machine inflate
them far less than wall-clock time; wall-clock medians are printed beside them. The
machine and the load average at the start and end are printed with the results.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from models.config import TrainConfig
from models.decoders import audio_decoder, image_decoder
from models.model import build_model
from models.rotation import SORotation
from models.tokenizers import audio_tokenizer, image_tokenizer

K_VALUES = (64, 128, 256, 512)


def _median_seconds(step, repeats: int) -> tuple[float, float]:
    """Return the median CPU seconds and the median wall-clock seconds of ``step()``."""
    step()  # warm-up: first calls allocate buffers and pick kernels
    cpu_times, wall_times = [], []
    for _ in range(repeats):
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        step()
        cpu_times.append(time.process_time() - cpu_started)
        wall_times.append(time.perf_counter() - wall_started)
    return statistics.median(cpu_times), statistics.median(wall_times)


def _module_step(module, make_input):
    inputs = make_input()

    def step():
        module.zero_grad(set_to_none=True)
        module(inputs).float().mean().backward()

    return step


def _model_step(model, config, batch_size):
    image = torch.rand(batch_size, 1, 28, 28)
    audio = torch.rand(batch_size, 1, 112, 112)
    label = torch.randint(0, 10, (batch_size,))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad(set_to_none=True)
        if config.variant == "late_fusion":
            terms = model.loss_terms(image, audio, label)
        else:
            terms = model.loss_terms(image, audio, config)
        terms["total"].backward()
        optimizer.step()

    return step


def _set_generator_angle(rotation: SORotation, seed: int) -> None:
    # The cost of matrix_exp grows with ‖A‖ (more scaling-and-squaring steps), and A = 0
    # right after a fold is the cheapest case. Time a mid-training generator instead:
    # random entries of scale 0.25/√k give a spectral norm near 0.5 rad.
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        rotation.generator.copy_(0.25 / rotation.k**0.5 * torch.randn(rotation.generator.shape, generator=generator))


def _freeze_rotations(model) -> None:
    # Replace R_v and R_a by constants: the step then skips building the rotations and
    # backpropagating through them, and otherwise does the same work.
    with torch.no_grad():
        fixed = {modality: model.rotation(modality).clone() for modality in model.rotations}
    model.rotation = lambda modality: fixed[modality]


def component_throughput(batch_size: int, repeats: int) -> list[tuple[str, float, float]]:
    """Return (component, samples per CPU second, samples per wall second) at k = 64, d = 32."""
    config = TrainConfig(k=64, width=32)
    components = [
        ("image tokenizer", _module_step(image_tokenizer(32), lambda: torch.rand(batch_size, 1, 28, 28))),
        ("audio tokenizer", _module_step(audio_tokenizer(32), lambda: torch.rand(batch_size, 1, 112, 112))),
        ("image decoder", _module_step(image_decoder(64), lambda: torch.randn(batch_size, 64))),
        ("audio decoder", _module_step(audio_decoder(64), lambda: torch.randn(batch_size, 64))),
        ("rotation model, full step", _model_step(build_model(config).train(), config, batch_size)),
    ]
    fusion = config.replace(variant="late_fusion")
    components.append(("late fusion, full step", _model_step(build_model(fusion).train(), fusion, batch_size)))
    rows = []
    for name, step in components:
        cpu_seconds, wall_seconds = _median_seconds(step, repeats)
        rows.append((name, batch_size / cpu_seconds, batch_size / wall_seconds))
    return rows


def rotation_share(batch_size: int, repeats: int) -> list[tuple[int, str, float, float, float]]:
    """Return (k, map, step CPU ms, step CPU ms with frozen rotations, share) at each k.

    The rotation's share is measured in place, as the CPU time a training step loses when
    R_v and R_a become constants: the backward pass of matrix_exp depends on the size of
    the incoming gradient, so timing the rotation alone with a made-up gradient misleads.
    """
    rows = []
    for k in K_VALUES:
        for rotation_map in ("exp", "cayley"):
            config = TrainConfig(k=k, width=32, rotation_map=rotation_map)
            timings = []
            for frozen in (False, True):
                model = build_model(config).train()
                for seed, rotation in enumerate(model.rotations.values()):
                    _set_generator_angle(rotation, seed)
                if frozen:
                    _freeze_rotations(model)
                seconds, _ = _median_seconds(_model_step(model, config, batch_size), repeats)
                timings.append(seconds)
            step_seconds, frozen_seconds = timings
            share = (step_seconds - frozen_seconds) / step_seconds
            rows.append((k, rotation_map, 1e3 * step_seconds, 1e3 * frozen_seconds, share))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 32 and 3 repeats instead of batch 128 and 5")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()
    batch_size, repeats = (32, 3) if args.quick else (128, 5)
    torch.set_num_threads(args.threads)

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"load average at start: {os.getloadavg()}")
    print(f"batch size {batch_size}, median of {repeats} repeats\n")

    print("| component (forward + backward) | samples per CPU second | samples per wall second |")
    print("|---|---:|---:|")
    for name, cpu_rate, wall_rate in component_throughput(batch_size, repeats):
        print(f"| {name} | {cpu_rate:,.0f} | {wall_rate:,.0f} |")

    print("\n| k | map | training step (CPU ms) | with frozen rotations (CPU ms) | rotation share |")
    print("|---:|---|---:|---:|---:|")
    for k, rotation_map, step_ms, frozen_ms, share in rotation_share(batch_size, repeats):
        print(f"| {k} | {rotation_map} | {step_ms:.1f} | {frozen_ms:.1f} | {share:.1%} |")
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
