#!/usr/bin/python3
"""Export benchmark: times the whole `exporters` process on base-sized
models made by tools/model_generator (random weights), and LibTorch's own
load and forward of the same .pt for reference.

  meson compile -C build bench      # builds build/tools/bench/torch_load
  /usr/bin/python3 tools/bench/bench.py [--exporters build/tools/exporters]
        [--models bert,vit,gpt2] [--runs 3] [--layers-scan] [--native] [--work build/bench]

Prints one row per (model, export) with medians over --runs: wall time,
peak resident memory, output size, op count, the phase breakdown that
`exporters --profile` reports, and the wall time as ratios to LibTorch's own
load of the same file, measured in the same run by build/tools/bench/torch_load
(a C++ program linked to the same LibTorch):
  x load  export wall / torch::jit::load's time inside that process
  x proc  export wall / that whole process (LibTorch start-up + load)
Needs Debian's python3-torch (generator, one forward); no timing here is a
test, and ratios travel across machines better than seconds.

With bert in --models it also prints the start-up rows: whole-process
`exporters --version` and `exporters inspect` of the BERT-base float16
package, and BERT-base float16 Core ML (no validation) from the same trace
with and without `architectures` in config.json (the task then comes from the
class the trace records). --baseline OTHER_EXPORTERS runs those rows with a
second binary too (e.g. a build of an older commit) and prints
baseline / this.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GENERATOR = os.path.join(ROOT, "tools", "model_generator", "make_model.py")
# A checkpoint with transformers' tensor names (config.json + model.safetensors, no model.pt).
CHECKPOINT_GENERATOR = os.path.join(ROOT, "tests", "builders", "bert_reference.py")

MODELS = {
    # name: generator arguments (BERT-base, ViT-base/16 at 224, GPT-2 small)
    "bert": ["bert", "--layers", "12", "--hidden", "768", "--heads", "12", "--vocab", "30522", "--seq", "128"],
    "vit": ["vit", "--layers", "12", "--hidden", "768", "--heads", "12", "--image-size", "224", "--patch", "16"],
    "gpt2": ["gpt2", "--layers", "12", "--hidden", "768", "--heads", "12", "--vocab", "50257", "--seq", "64"],
}

EXPORTS = [
    ("coreml float32", ["coreml", "--quantize", "float32"], ".mlpackage"),
    ("coreml float16", ["coreml", "--quantize", "float16"], ".mlpackage"),
    ("coreml legacy", ["coreml", "--legacy"], ".mlmodel"),
    ("tflite float16", ["tflite", "--quantize", "float16"], ".tflite"),
]


# Bumped when the generator's traces change (v2: HF class names in the trace).
GENERATOR_STAMP = "generator-v2"


def generate(name, args, work, layers=None):
    argv = list(args)
    if layers is not None:
        argv[argv.index("--layers") + 1] = str(layers)
        name = f"{name}-{layers}l"
    out = os.path.join(work, name)
    if not os.path.exists(os.path.join(out, GENERATOR_STAMP)):
        print(f"generating {name} ...", file=sys.stderr)
        subprocess.run([sys.executable, GENERATOR, argv[0], out] + argv[1:], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        open(os.path.join(out, GENERATOR_STAMP), "w").close()
    return out


def without_architectures(model_dir):
    """The same trace beside a config.json without architectures."""
    out = model_dir + "-noarch"
    os.makedirs(out, exist_ok=True)
    for f in ("model.pt", "reference.safetensors"):
        link = os.path.join(out, f)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.join(model_dir, f), link)
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    config.pop("architectures", None)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    return out


def run_with_rusage(argv):
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: output to a log file, then exec
        log = os.open(os.path.join(os.environ.get("BENCH_LOG_DIR", "/tmp"), "bench_last.log"),
                      os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.execv(argv[0], argv)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    with open(os.path.join(os.environ.get("BENCH_LOG_DIR", "/tmp"), "bench_last.log")) as f:
        text = f.read()
    return os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss / 1024.0, text


def torch_load(exe, model_pt):
    """LibTorch's own load (C++): (seconds inside the process, process wall)."""
    start = time.perf_counter()
    out = subprocess.run([exe, model_pt], capture_output=True, text=True, check=True).stdout
    return float(out.split()[0]), time.perf_counter() - start


def torch_forward(model_pt, inputs_file):
    """One LibTorch (Python) forward on the reference inputs, timed in a fresh process."""
    code = f"""
import time, torch, json, struct
torch.set_grad_enabled(False)
m = torch.jit.load({model_pt!r})
with open({inputs_file!r}, 'rb') as f:
    n = struct.unpack('<Q', f.read(8))[0]; h = json.loads(f.read(n)); data = f.read()
dt = {{'F32': torch.float32, 'I64': torch.int64}}
names = [k for k in h if k.startswith('input.')]
args = []
for k in sorted(names, key=lambda k: h[k]['data_offsets'][0]):
    b, e = h[k]['data_offsets']
    args.append(torch.frombuffer(bytearray(data[b:e]), dtype=dt[h[k]['dtype']]).reshape(h[k]['shape']))
order = [a.name for a in m.forward.schema.arguments[1:]]
byname = dict(zip([k[6:] for k in sorted(names, key=lambda k: h[k]['data_offsets'][0])], args))
t2 = time.perf_counter(); m(*[byname[o] for o in order]); t3 = time.perf_counter()
print(t3 - t2)
"""
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def parse_profile(text):
    phases = {}
    for m in re.finditer(r"^\s+(load|translate|passes|serialize|validate)\s+([0-9.]+) s", text, re.M):
        phases[m.group(1)] = float(m.group(2))
    ops = re.search(r"\((\d+) ops", text)
    mix = re.search(r"^\s+ops:(.*)$", text, re.M)
    counts = dict(zip(mix.group(1).split()[::2], map(int, mix.group(1).split()[1::2]))) if mix else {}
    fused = "/".join(str(counts.get(k, 0)) for k in ("layer_norm", "gelu", "softmax"))
    return phases, int(ops.group(1)) if ops else -1, fused


def size_of(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
    return os.path.getsize(path) if os.path.exists(path) else 0


def bench_model(exe, loader, name, model_dir, runs, validate_modes, work):
    model_pt = os.path.join(model_dir, "model.pt")
    forward = [torch_forward(model_pt, os.path.join(model_dir, "reference.safetensors")) for _ in range(runs)]
    load, proc = zip(*(torch_load(loader, model_pt) for _ in range(runs)))
    load_s, proc_s, fwd_s = statistics.median(load), statistics.median(proc), statistics.median(forward)
    weights = os.path.getsize(model_pt) / 2**20
    print(f"\n## {name}: model.pt {weights:.0f} MiB; LibTorch load {load_s:.2f} s "
          f"(process with start-up {proc_s:.2f} s), forward {fwd_s:.3f} s")
    print(f"{'export':<16} {'validate':<8} {'wall s':>7} {'x load':>7} {'x proc':>7} {'peak MiB':>9} "
          f"{'out MiB':>8} {'ops':>5} {'ln/gelu/sm':>10}  phases (s)")
    for label, args, ext in EXPORTS:
        for validate in validate_modes:
            out = os.path.join(work, f"{name}-{label.replace(' ', '-')}{ext}")
            argv = [exe] + args[:1] + [model_dir, "-o", out, "--overwrite", "--profile"] + args[1:]
            if not validate:
                argv.append("--no-validate")
            samples = []
            for _ in range(runs):
                code, wall, rss, text = run_with_rusage(argv)
                if code != 0:
                    last = text.strip().splitlines()[-1] if text.strip() else "no output"
                    print(f"{label:<16} {str(validate):<8} failed (exit {code}): {last}")
                    break
                samples.append((wall, rss, text))
            if len(samples) < runs:
                continue
            wall = statistics.median(s[0] for s in samples)
            rss = statistics.median(s[1] for s in samples)
            phases, ops, fused = parse_profile(samples[len(samples) // 2][2])
            phase_text = " ".join(f"{k}={v:.2f}" for k, v in phases.items())
            print(f"{label:<16} {str(validate):<8} {wall:7.2f} {wall / load_s:7.2f} {wall / proc_s:7.2f} "
                  f"{rss:9.0f} {size_of(out) / 2**20:8.1f} {ops:5d} {fused:>10}  {phase_text}")
            if os.path.isdir(out):
                shutil.rmtree(out, ignore_errors=True)


def timed_rows(exe, model_dir, runs, work):
    """Start-up rows for one exporters binary: {row: (wall s, peak MiB, note)}."""
    package = os.path.join(work, "startup-bert-float16.mlpackage")
    noarch = without_architectures(model_dir)
    rows = [
        ("coreml float16, architectures", [exe, "coreml", model_dir, "-o", package, "--overwrite",
                                           "--quantize", "float16", "--no-validate", "--profile"]),
        ("coreml float16, no architectures", [exe, "coreml", noarch, "-o", package, "--overwrite",
                                              "--quantize", "float16", "--no-validate", "--profile"]),
        ("--version", [exe, "--version"]),
        ("inspect (BERT-base fp16)", [exe, "inspect", package]),
    ]
    result = {}
    for label, argv in rows:
        samples = []
        for _ in range(runs):
            code, wall, rss, text = run_with_rusage(argv)
            if code != 0:
                last = text.strip().splitlines()[-1] if text.strip() else "no output"
                result[label] = (None, None, f"failed (exit {code}): {last}")
                break
            samples.append((wall, rss, text))
        if len(samples) < runs:
            continue
        task = re.search(r"task (\S+) \((\w+)\)", samples[0][2])
        note = f"task {task.group(1)}" if task else ""
        if label.startswith("coreml"):
            phases, _, _ = parse_profile(samples[len(samples) // 2][2])
            note += "  " + " ".join(f"{k}={v:.2f}" for k, v in phases.items())
        result[label] = (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples), note)
    return result


def bench_startup(exe, baseline, model_dir, runs, work):
    print("\n## start-up and the trace's class (BERT-base; whole process, no validation)")
    this = timed_rows(exe, model_dir, runs, work)
    base = timed_rows(baseline, model_dir, runs, work) if baseline else {}
    header = f"{'command':<34} {'wall s':>7} {'peak MiB':>9}"
    if baseline:
        header += f" {'base s':>7} {'base MiB':>9} {'base/this':>9}"
    print(header + "  notes")
    for label, (wall, rss, note) in this.items():
        if wall is None:
            print(f"{label:<34} {note}")
            continue
        line = f"{label:<34} {wall:7.3f} {rss:9.0f}"
        if baseline:
            bwall, brss, bnote = base.get(label, (None, None, "missing"))
            if bwall is None:
                line += f" baseline {bnote}"
            else:
                line += f" {bwall:7.3f} {brss:9.0f} {bwall / wall:9.2f}"
        print(line + "  " + note)


def read_once(path):
    """Whole-process wall time of reading the file once (`cat FILE > /dev/null`)."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        subprocess.run(["cat", path], stdout=null, check=True)
    return time.perf_counter() - start


def bench_native(exe, work, runs, validate_modes):
    """BERT-base exported from its checkpoint (the bert plugin's graph builder,
    no trace, no LibTorch call) next to the trace rows above. Ratio: export
    wall / `cat model.safetensors > /dev/null` in the same run."""
    model_dir = os.path.join(work, "bert-checkpoint")
    if not os.path.exists(os.path.join(model_dir, "model.safetensors")):
        print("generating bert-checkpoint ...", file=sys.stderr)
        subprocess.run([sys.executable, CHECKPOINT_GENERATOR, "make", model_dir, "BertForSequenceClassification",
                        "--layers", "12", "--hidden", "768", "--heads", "12", "--intermediate", "3072",
                        "--vocab", "30522", "--max-positions", "512", "--seq", "128"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = os.path.join(model_dir, "model.safetensors")
    cat_s = statistics.median(read_once(ckpt) for _ in range(runs))
    print(f"\n## bert native (checkpoint, no trace): model.safetensors {os.path.getsize(ckpt) / 2**20:.0f} MiB; "
          f"cat > /dev/null {cat_s:.3f} s")
    print(f"{'export':<16} {'validate':<8} {'wall s':>7} {'x cat':>7} {'peak MiB':>9} {'out MiB':>8} {'ops':>5} "
          f"{'ln/gelu/sm':>10}  phases (s)")
    for label, args, ext in [e for e in EXPORTS if e[0] == "coreml float16"]:
        for validate in validate_modes:
            out = os.path.join(work, f"bert-native-{label.replace(' ', '-')}{ext}")
            argv = [exe] + args[:1] + [model_dir, "-o", out, "--overwrite", "--profile",
                                       "--sequence-length", "128"] + args[1:]
            if not validate:
                argv.append("--no-validate")
            samples = [run_with_rusage(argv) for _ in range(runs)]
            if any(s[0] != 0 for s in samples):
                print(f"{label:<16} {str(validate):<8} failed: {samples[-1][3].strip().splitlines()[-1]}")
                continue
            wall = statistics.median(s[1] for s in samples)
            rss = statistics.median(s[2] for s in samples)
            phases, ops, fused = parse_profile(samples[len(samples) // 2][3])
            phase_text = " ".join(f"{k}={v:.2f}" for k, v in phases.items())
            print(f"{label + ' native':<16} {str(validate):<8} {wall:7.2f} {wall / cat_s:7.1f} {rss:9.0f} "
                  f"{size_of(out) / 2**20:8.1f} {ops:5d} {fused:>10}  {phase_text}")
            if os.path.isdir(out):
                shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exporters", default=os.path.join(ROOT, "build", "tools", "exporters"))
    ap.add_argument("--torch-load", default=None,
                    help="LibTorch load timer (default: tools/bench/torch_load beside --exporters' build)")
    ap.add_argument("--models", default="bert,vit,gpt2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--no-validate-only", action="store_true", help="skip the runs with validation")
    ap.add_argument("--baseline", default=None,
                    help="another exporters binary to run the start-up rows with, for before/after ratios")
    ap.add_argument("--startup-only", action="store_true", help="only the start-up rows (needs bert in --models)")
    ap.add_argument("--native", action="store_true",
                    help="with bert: also export BERT-base from a checkpoint (graph builder, no trace), Core ML float16")
    ap.add_argument("--layers-scan", action="store_true",
                    help="also export BERT with 2, 6 and 12 layers to show how phases scale")
    a = ap.parse_args()
    loader = a.torch_load or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(a.exporters))),
                                          "tools", "bench", "torch_load")
    if not os.path.exists(loader):
        sys.exit(f"bench.py: {loader} not found: run `meson compile -C build bench` first")
    os.makedirs(a.work, exist_ok=True)
    os.environ["BENCH_LOG_DIR"] = a.work
    modes = [False] if a.no_validate_only else [False, True]
    for name in a.models.split(","):
        model_dir = generate(name, MODELS[name], a.work)
        if name == "bert":
            bench_startup(a.exporters, a.baseline, model_dir, a.runs, a.work)
        if not a.startup_only:
            bench_model(a.exporters, loader, name, model_dir, a.runs, modes, a.work)
        if name == "bert" and a.native and not a.startup_only:
            bench_native(a.exporters, a.work, a.runs, modes)
    if a.layers_scan:
        for layers in (2, 6, 12):
            model_dir = generate("bert", MODELS["bert"], a.work, layers)
            bench_model(a.exporters, loader, f"bert-{layers}l", model_dir, a.runs, [False], a.work)


if __name__ == "__main__":
    main()
