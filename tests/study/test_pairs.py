from __future__ import annotations

from pathlib import Path

import pytest

from synthdiff.errors import InvalidArgumentError
from synthdiff.study import read_pairs


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pairs.csv"
    path.write_text(text)
    return path


def test_reads_pairs_and_traps(tmp_path: Path, images: tuple[Path, list[str]]) -> None:
    root, names = images
    path = _csv(
        tmp_path,
        f"pair_id,image_a,image_b,trap_answer\np1,{names[0]},{names[1]},\np2,{names[2]},{names[2]},NO\n",
    )
    rows = read_pairs(path, "yesno", root)
    assert [(r.key, r.image_a, r.image_b, r.trap_answer) for r in rows] == [
        ("p1", names[0], names[1], None),
        ("p2", names[2], names[2], "no"),
    ]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_spreadsheet_delimiters_and_byte_order_mark(
    tmp_path: Path, images: tuple[Path, list[str]], delimiter: str
) -> None:
    root, names = images
    lines = ["pair_id", "image_a", "image_b"], ["p1", names[0], names[1]]
    path = tmp_path / "pairs.csv"
    path.write_text("".join(delimiter.join(line) + "\n" for line in lines), encoding="utf-8-sig")
    (row,) = read_pairs(path, "yesno", root)
    assert (row.key, row.image_a, row.image_b) == ("p1", names[0], names[1])


def test_absolute_paths_inside_the_root_are_stored_relative(
    tmp_path: Path, images: tuple[Path, list[str]]
) -> None:
    root, names = images
    path = _csv(tmp_path, f"pair_id,image_a,image_b\np1,{root / names[0]},{names[1]}\n")
    assert read_pairs(path, "yesno", root)[0].image_a == names[0]


def test_gif_images_are_served_as_they_are(tmp_path: Path, images: tuple[Path, list[str]]) -> None:
    # Browsers show GIF; it was refused as a format they cannot show.
    root, names = images
    (root / "puzzle.gif").write_bytes(b"GIF89a")  # only the name is checked at this stage
    path = _csv(tmp_path, f"pair_id,image_a,image_b\np1,puzzle.gif,{names[1]}\n")
    assert read_pairs(path, "yesno", root)[0].image_a == "puzzle.gif"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("p1,../outside.png,{b}", "outside the images root"),
        ("p1,/etc/passwd,{b}", "outside the images root"),
        ("p1,missing.png,{b}", "does not exist"),
        ("p1,notes.txt,{b}", "is not an image"),
        ("p1,render.exr,{b}", "is a .exr file, which web browsers cannot show.*convert it to PNG"),
        ("p1,render.tif,{b}", "is a .tif file, which web browsers cannot show"),
        (",{a},{b}", "pair_id is empty"),
        ("p1,,{b}", "image_a is empty"),
        ("p1,{a},{b},extra", "4 fields, but the header names 3"),
    ],
)
def test_bad_rows_are_named_with_their_line(
    tmp_path: Path, images: tuple[Path, list[str]], row: str, message: str
) -> None:
    root, names = images
    (root / "notes.txt").write_text("not an image")
    (root / "render.exr").write_bytes(b"")  # only the name is checked at this stage
    (root / "render.tif").write_bytes(b"")
    (tmp_path / "outside.png").write_bytes(b"")
    text = "pair_id,image_a,image_b\nok,{a},{b}\n" + row + "\n"
    path = _csv(tmp_path, text.format(a=names[0], b=names[1]))
    with pytest.raises(InvalidArgumentError, match=rf"line 3: .*{message}"):
        read_pairs(path, "yesno", root)


def test_duplicate_ids_and_bad_trap_answers(tmp_path: Path, images: tuple[Path, list[str]]) -> None:
    root, names = images
    a, b = names[:2]
    path = _csv(
        tmp_path, f"pair_id,image_a,image_b,trap_answer\np1,{a},{b},\np1,{a},{b},\np2,{a},{b},maybe\n"
    )
    with pytest.raises(
        InvalidArgumentError, match=r"line 3: pair_id 'p1' appears twice; line 4: trap_answer"
    ):
        read_pairs(path, "yesno", root)


def test_missing_columns_and_malformed_files(tmp_path: Path, images: tuple[Path, list[str]]) -> None:
    root, names = images
    with pytest.raises(InvalidArgumentError, match="image_b is missing"):
        read_pairs(_csv(tmp_path, "pair_id,image_a\np1,x.png\n"), "yesno", root)
    with pytest.raises(
        InvalidArgumentError,
        match=r"reference is missing .*closer to a reference\. Fix: add a reference column",
    ):
        read_pairs(_csv(tmp_path, f"pair_id,image_a,image_b\np1,{names[0]},{names[1]}\n"), "2afc", root)
    with pytest.raises(InvalidArgumentError, match=r"well-formed CSV .* record starting on line 2"):
        read_pairs(_csv(tmp_path, f'pair_id,image_a,image_b\np1,"{names[0]}"x,{names[1]}\n'), "yesno", root)
    # A quote never closed: named by the line it opens on (Python's csv says only "unexpected end of data").
    unclosed = f'pair_id,image_a,image_b\np1,{names[0]},{names[1]}\np2,"{names[0]},{names[1]}\np3,a,b\n'
    with pytest.raises(
        InvalidArgumentError, match=r"starting on line 3 \(a quote opened there is not closed\)"
    ):
        read_pairs(_csv(tmp_path, unclosed), "yesno", root)
    with pytest.raises(InvalidArgumentError, match=r"columns .* missing .*found: nothing"):
        read_pairs(_csv(tmp_path, ""), "yesno", root)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage\x80")
    with pytest.raises(
        InvalidArgumentError, match=r"byte 0 \(line 1\) is not UTF-8 \(invalid start byte\)\. Fix: save"
    ):
        read_pairs(binary, "yesno", root)
    latin1 = tmp_path / "latin1.csv"  # a spreadsheet's "CSV" in Latin-1: text, but not UTF-8
    latin1.write_bytes(f"pair_id,image_a,image_b\ncaf\xe9,{names[0]},{names[1]}\n".encode("latin-1"))
    with pytest.raises(
        InvalidArgumentError, match=r"byte 27 \(line 2\) is not UTF-8 \(invalid continuation byte\)"
    ):
        read_pairs(latin1, "yesno", root)
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        read_pairs(tmp_path / "none.csv", "yesno", root)
    with pytest.raises(InvalidArgumentError, match="question type"):
        read_pairs(_csv(tmp_path, "pair_id,image_a,image_b\n"), "likert", root)


def test_a_study_needs_pairs_to_judge(tmp_path: Path, images: tuple[Path, list[str]]) -> None:
    root, names = images
    path = _csv(tmp_path, f"pair_id,image_a,image_b,trap_answer\nt1,{names[0]},{names[0]},no\n")
    with pytest.raises(InvalidArgumentError, match="at least one pair without a trap_answer"):
        read_pairs(path, "yesno", root)


def test_rating_traps_may_be_ranges(tmp_path: Path, images: tuple[Path, list[str]]) -> None:
    from synthdiff.study._pairs import trap_is_correct

    root, names = images
    path = _csv(
        tmp_path,
        f"pair_id,image_a,image_b,trap_answer\np1,{names[0]},{names[1]},\nt,{names[0]},{names[0]},4-5\n",
    )
    assert read_pairs(path, "rating", root)[1].trap_answer == "4-5"
    assert trap_is_correct("rating", "4-5", "5") and not trap_is_correct("rating", "4-5", "3")
    assert trap_is_correct("2afc", "a", "a") and not trap_is_correct("yesno", "no", "yes")
