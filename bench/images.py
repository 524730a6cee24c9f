"""Benchmark: contest.images.process_image against a straightforward Pillow pipeline on 24-megapixel photos."""
from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, without installing the project

from PIL import Image, ImageChops, ImageDraw, ImageOps, ImageStat  # noqa: E402

from contest.images import RENDITION_QUALITY, SIZES, process_image  # noqa: E402

PHOTO_SIZE = (6000, 4000)
PHOTOS = 3
TIMED_RUNS = 4  # after one untimed run that warms the plugins up
TARGETS = {"time_ratio": 0.35, "memory_ratio": 0.4}


def naive(data: bytes) -> list[bytes]:
    """What one writes first: decode everything, turn it upright, resample each size from the full picture."""
    im = Image.open(BytesIO(data))
    im.load()
    im = ImageOps.exif_transpose(im.convert("RGB"))
    out = []
    for _name, long_side in SIZES:
        scale = min(1.0, long_side / max(im.size))
        small = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
        buffer = BytesIO()
        small.save(buffer, "JPEG", quality=RENDITION_QUALITY)
        out.append(buffer.getvalue())
    return out


def careful(data: bytes) -> list[bytes]:
    return [rendition.data for rendition in process_image(data).renditions]


VARIANTS = {"naive": naive, "process_image": careful}


def make_photo(seed: int, orientation: int | None = None) -> bytes:
    """Soft shapes and gradients with sensor-like noise on top: compresses and decodes like a camera JPEG."""
    small = (PHOTO_SIZE[0] // 4, PHOTO_SIZE[1] // 4)
    sky = Image.linear_gradient("L").resize(small)
    light = Image.radial_gradient("L").resize(small)
    base = Image.merge("RGB", (light, sky.transpose(Image.Transpose.FLIP_TOP_BOTTOM), sky))
    draw = ImageDraw.Draw(base)
    for i in range(40):
        x, y = (seed * 7919 + i * 104729) % small[0], (seed * 15485863 + i * 7727) % small[1]
        r = 20 + (i * 37 + seed * 11) % 180
        colour = ((i * 53 + seed * 90) % 256, (i * 97) % 256, (i * 31 + seed * 40) % 256)
        (draw.ellipse if i % 2 else draw.rectangle)((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
    photo = base.resize(PHOTO_SIZE, Image.Resampling.BICUBIC)
    grain = Image.merge("RGB", [Image.effect_noise(PHOTO_SIZE, 24)] * 3)
    photo = ImageChops.add(ImageChops.multiply(photo, Image.new("RGB", PHOTO_SIZE, (215,) * 3)), grain, 1, -64)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    buffer = BytesIO()
    photo.save(buffer, "JPEG", quality=92, exif=exif)
    return buffer.getvalue()


def resident_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def start_peak() -> int:
    """Peak-memory baseline of this process as it is now, in KB.

    ru_maxrss is no good in a child: Linux hands it the parent's peak at fork, and the parent has just
    drawn three 24-megapixel photos. Resetting the kernel's high-water mark (clear_refs 5) gives a clean one.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return resident_kb("VmRSS")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak() -> int:
    try:
        return resident_kb("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(variant: str, path: str, runs: int) -> None:
    """Run in a process of its own, so that its peak memory is its own."""
    data = Path(path).read_bytes()
    function = VARIANTS[variant]
    before = start_peak()
    function(data)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function(data)
        times.append(time.perf_counter() - started)
    print(json.dumps({"times": times, "peak_mb": (peak() - before) / 1024}))


def measure(variant: str, path: Path) -> dict:
    result = subprocess.run([sys.executable, __file__, "--worker", variant, str(path), str(TIMED_RUNS)],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def psnr(a: bytes, b: bytes) -> float:
    """How close two renditions are (dB); above 40 the difference cannot be seen."""
    im_a, im_b = Image.open(BytesIO(a)).convert("RGB"), Image.open(BytesIO(b)).convert("RGB")
    mse = statistics.fmean(ImageStat.Stat(ImageChops.difference(im_a, im_b)).sum2) / (im_a.width * im_a.height)
    return math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def compare(paths: list[Path]) -> dict:
    figures = {}
    for variant in VARIANTS:
        runs = [measure(variant, path) for path in paths]
        figures[variant] = {
            "median_s": statistics.median(t for run in runs for t in run["times"]),
            "peak_mb": max(run["peak_mb"] for run in runs),
        }
    figures["time_ratio"] = figures["process_image"]["median_s"] / figures["naive"]["median_s"]
    figures["memory_ratio"] = figures["process_image"]["peak_mb"] / figures["naive"]["peak_mb"]
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        photos = []
        for seed in range(PHOTOS):
            photos.append(Path(folder, f"photo-{seed}.jpg"))
            photos[-1].write_bytes(make_photo(seed))
        # A phone held upright: the original has to be decoded whole and turned, so it is slower.
        sideways = Path(folder, "sideways.jpg")
        sideways.write_bytes(make_photo(7, orientation=6))
        made = time.perf_counter() - started

        main_figures = compare(photos)
        sideways_figures = compare([sideways])

        data = photos[0].read_bytes()
        closeness = [psnr(ours, theirs) for ours, theirs in zip(careful(data), naive(data), strict=True)]
        megabytes = statistics.fmean(path.stat().st_size for path in photos) / 2 ** 20

    naive_f, ours = main_figures["naive"], main_figures["process_image"]
    print(f"images: {PHOTOS} photos of {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} px, {megabytes:.1f} MB each "
          f"(made in {made:.1f} s); sizes {', '.join(f'{n} {s}' for n, s in SIZES)}; "
          f"median of {TIMED_RUNS} runs per photo, peak RSS above a process that has read the file")
    print(f"{'':28}{'naive Pillow':>14}{'process_image':>15}{'ratio':>8}{'target':>8}")
    print(f"{'time per photo (median)':28}{naive_f['median_s'] * 1000:>11.0f} ms{ours['median_s'] * 1000:>12.0f} ms"
          f"{main_figures['time_ratio']:>8.2f}{TARGETS['time_ratio']:>8.2f}")
    print(f"{'peak memory':28}{naive_f['peak_mb']:>11.0f} MB{ours['peak_mb']:>12.0f} MB"
          f"{main_figures['memory_ratio']:>8.2f}{TARGETS['memory_ratio']:>8.2f}")
    print(f"{'sideways phone photo, time':28}{sideways_figures['naive']['median_s'] * 1000:>11.0f} ms"
          f"{sideways_figures['process_image']['median_s'] * 1000:>12.0f} ms{sideways_figures['time_ratio']:>8.2f}")
    print(f"{'sideways phone photo, memory':28}{sideways_figures['naive']['peak_mb']:>11.0f} MB"
          f"{sideways_figures['process_image']['peak_mb']:>12.0f} MB{sideways_figures['memory_ratio']:>8.2f}")
    print("process_image also stores the full-size original without metadata; the baseline stores none.")
    print("closeness to the baseline's renditions (PSNR): "
          + ", ".join(f"{name} {value:.1f} dB" for (name, _), value in zip(SIZES, closeness, strict=True)))
    met = all(main_figures[key] <= target for key, target in TARGETS.items())
    print("targets met" if met else "TARGETS NOT MET")
    print(json.dumps({
        "bench": "images",
        "time_ratio": round(main_figures["time_ratio"], 3),
        "memory_ratio": round(main_figures["memory_ratio"], 3),
        "naive_ms": round(naive_f["median_s"] * 1000, 1),
        "process_image_ms": round(ours["median_s"] * 1000, 1),
        "naive_peak_mb": round(naive_f["peak_mb"], 1),
        "process_image_peak_mb": round(ours["peak_mb"], 1),
        "sideways_time_ratio": round(sideways_figures["time_ratio"], 3),
        "sideways_memory_ratio": round(sideways_figures["memory_ratio"], 3),
        "psnr_vs_naive_db": {name: round(value, 1) for (name, _), value in zip(SIZES, closeness, strict=True)},
        "targets_met": met,
    }))


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--worker", nargs=3, metavar=("VARIANT", "PATH", "RUNS"), help=argparse.SUPPRESS)
    options = arguments.parse_args()
    if options.worker:
        worker(options.worker[0], options.worker[1], int(options.worker[2]))
    else:
        main()
