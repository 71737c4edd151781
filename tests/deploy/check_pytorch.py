"""tests/deploy/check_pytorch.py — scripts/vaelet_torch.py against vaelet itself: every model that write_reference
saved loads in PyTorch and gives vaelet's outputs on the same inputs, to a max abs difference of 1e-5 in float32
and 1e-10 in float64; parts of the user's own load when given and are one clear error when not. Exits 77 (ctest:
skipped) when torch cannot be imported, saying why.

  /usr/bin/python3 tests/deploy/check_pytorch.py build/release/tests/deploy/reference
"""
import sys
from pathlib import Path

try:
    import torch
except ImportError as e:
    print(f"skipped: torch cannot be imported by {sys.executable} ({e}); on Debian: apt-get install python3-torch")
    sys.exit(77)

sys.dont_write_bytecode = True  # a test leaves nothing in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import vaelet_torch  # noqa: E402 (after the check for torch)

TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-10}


class Scale(torch.nn.Module):
    """write_reference's module type of the user's own: x·exp(log_scale), one learned scale per feature."""

    def __init__(self, spec):
        super().__init__()
        self.log_scale = torch.nn.Parameter(torch.zeros(spec["sizes"]["features"]))

    def forward(self, x):
        return x * torch.exp(self.log_scale)


CUSTOM = {"functions": {"swish": lambda x: x * torch.sigmoid(x)}, "modules": {"Scale": Scale}}


def read(path):
    metadata, tensors = vaelet_torch.read_safetensors(path)
    return metadata, {name: vaelet_torch.decode_tensor(path, name, entry) for name, entry in tensors.items()}


def outputs(vae, ref):
    """The module's counterpart of each output in the reference."""
    c = ref.get("c")
    mu, logvar = vae.encode(ref["x"], c)
    got = {"mu": mu, "logvar": logvar, "code": vae.code(mu), "out": vae.decode(ref["z"], c),
           "reconstruction": vae.reconstruct(ref["x"], c), "sample": vae.reconstruct(ref["x"], c, ref["eps"])}
    got["mean"] = vae.mean(got["out"])
    if vae.flow is not None:
        got["log_det"] = vae.flow(mu + torch.exp(0.5 * logvar) * ref["eps"])[1]
    return got


def expect_error(path, needles, **parts):
    """A LoadError whose message holds every one of `needles`, or the problem."""
    try:
        vaelet_torch.load(path, **parts)
    except vaelet_torch.LoadError as e:
        missing = [n for n in needles if n not in str(e)]
        return f"the error lacks {missing}: {e}" if missing else None
    return "it loaded without the parts it needs"


def check_model(reference):
    """Problems with the model of one reference file (none: an empty list); prints its difference."""
    metadata, ref = read(reference)
    model = reference.parent / metadata["model"]
    name = metadata["model"].split(".")[0]
    problems = []
    if name == "custom":
        for left_out, needle in (("functions", '"swish"'), ("modules", '"Scale"')):
            given = {key: value for key, value in CUSTOM.items() if key != left_out}
            problem = expect_error(model, [str(model), needle, left_out + "="], **given)
            if problem:
                problems.append(f"{name} without {left_out}: {problem}")
    vae = vaelet_torch.load(model, **(CUSTOM if name == "custom" else {}))
    dtype = ref["x"].dtype
    if next(vae.parameters()).dtype != dtype:
        problems.append(f"{name}: the module is {next(vae.parameters()).dtype}, the file {dtype}")
    with torch.no_grad():
        got = outputs(vae, ref)
        differences = {key: (got[key] - ref[key]).abs().max().item() for key in got}
        generator = torch.Generator().manual_seed(1)
        c = ref["c"][:3] if "c" in ref else None
        drawn = vae.sample(3, c, generator)
    missing = sorted(set(ref) - set(got) - {"x", "z", "eps", "c"})
    if missing:
        problems.append(f"{name}: no check of {missing}")
    worst = max(differences, key=differences.get)
    print(f"{name:24} {str(dtype)[6:]:8} max |torch - vaelet| {differences[worst]:.1e} ({worst}) over "
          f"{', '.join(differences)}")
    if differences[worst] > TOLERANCE[dtype]:
        problems.append(f"{name}: {worst} differs by {differences[worst]:.3g} > {TOLERANCE[dtype]:g}")
    if drawn.shape != (3, vae.likelihood.width) or not torch.isfinite(drawn).all():
        problems.append(f"{name}: sample(3) gave {tuple(drawn.shape)}, finite: {bool(torch.isfinite(drawn).all())}")
    return problems


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    torch.set_num_threads(1)
    references = sorted(Path(argv[1]).glob("*.reference.safetensors"))
    if not references:
        print(f"no *.reference.safetensors in {argv[1]}; run vaelet_write_reference {argv[1]} first")
        return 1
    problems = [p for reference in references for p in check_model(reference)]
    problem = expect_error(references[0], [str(references[0]), "not a vaelet model file or checkpoint"])
    if problem:
        problems.append(f"a file without an architecture: {problem}")
    for p in problems:
        print("FAILED:", p)
    print(f"{len(references)} models, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
