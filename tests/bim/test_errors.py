"""Bad input gives an IfcImportError naming the file and the entity, never a library traceback."""

from __future__ import annotations

from pathlib import Path

import ifcopenshell
import pytest

from bim import IfcImportError, read_ifc
from tests.bim.factory import build_ifc

FIXTURES = Path(ifcopenshell.__file__).parent / "simple_spf" / "fixtures"
GOOD_HEADER = """ISO-10303-21;
HEADER;
FILE_DESCRIPTION(('ViewDefinition [CoordinationView]'),'2;1');
FILE_NAME('x.ifc','2024-01-01T00:00:00',(''),(''),'','','');
FILE_SCHEMA(('{schema}'));
ENDSEC;
DATA;
"""


def _fail_fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("fail_*.ifc"))


needs_fixtures = pytest.mark.skipif(
    not _fail_fixtures(), reason="this ifcopenshell wheel ships no simple_spf fail_*.ifc fixtures"
)


@needs_fixtures
@pytest.mark.parametrize("fixture", _fail_fixtures(), ids=lambda p: p.name)
def test_parser_fixtures_are_refused_with_the_file_name(fixture: Path) -> None:
    """The bad-input corpus shipped with ifcopenshell never gets through, and the user sees which file."""
    with pytest.raises(IfcImportError) as caught:
        read_ifc(fixture)
    assert fixture.name in str(caught.value)
    assert caught.value.reason


@needs_fixtures
def test_duplicate_instance_number_names_the_entity_and_line() -> None:
    """The parser silently keeps one of two #19s; we refuse and point at the line."""
    with pytest.raises(IfcImportError, match=r"#19: entity instance number defined twice \(line \d+\)"):
        read_ifc(FIXTURES / "fail_duplicate_id.ifc")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04 zipped", "zip"),
        (b"<html>not a model</html>", "not an IFC file"),
        (b"ISO-10303-21;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n", "broken header"),
        (
            GOOD_HEADER.format(schema="IFC2X2_FINAL").encode() + b"ENDSEC;\nEND-ISO-10303-21;\n",
            "unsupported schema",
        ),
        (
            GOOD_HEADER.format(schema="IFC4").encode()
            + b"#1=IFCPROJECT('0YvctVUKr0kugbFTf53O9L',$,$,$,$,$,$,$,$);",
            "truncated",
        ),
    ],
)
def test_malformed_files(tmp_path: Path, content: bytes, message: str) -> None:
    """Uploads go wrong in many ways; each gets a message a property manager can act on."""
    path = tmp_path / "upload.ifc"
    path.write_bytes(content)
    with pytest.raises(IfcImportError, match=message) as caught:
        read_ifc(path)
    assert str(caught.value).startswith("upload.ifc: ")


@needs_fixtures
def test_syntax_error_names_the_line() -> None:
    """The parser's byte offset means nothing to a modeller; the line number does."""
    with pytest.raises(IfcImportError, match=r"syntax error: Unexpected .* at offset \d+ \(line \d+\)"):
        read_ifc(FIXTURES / "fail_reverse_string.ifc")


def test_missing_file(tmp_path: Path) -> None:
    """A wrong path is a user error, not a traceback."""
    with pytest.raises(IfcImportError, match="no such file"):
        read_ifc(tmp_path / "absent.ifc")


def test_truncated_real_model(tmp_path: Path) -> None:
    """An interrupted upload parses as a smaller model unless the ending is checked."""
    whole = build_ifc(tmp_path / "whole.ifc").path.read_bytes()
    cut = tmp_path / "cut.ifc"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(IfcImportError, match="truncated"):
        read_ifc(cut)


def test_model_without_site(tmp_path: Path) -> None:
    """Without a site the twin cannot place the model."""
    with pytest.raises(IfcImportError, match="no IfcSite") as caught:
        read_ifc(build_ifc(tmp_path / "nosite.ifc", site=False).path)
    assert caught.value.entity == "IfcSite"


def test_model_without_storey(tmp_path: Path) -> None:
    """Devices and spaces hang on storeys; a model without any cannot be imported."""
    with pytest.raises(IfcImportError, match="no IfcBuildingStorey"):
        read_ifc(build_ifc(tmp_path / "nostorey.ifc", storey=False).path)


def test_duplicate_global_ids_name_both_entities(tmp_path: Path) -> None:
    """Re-import matches by GlobalId, so two things sharing one would merge silently."""
    built = build_ifc(tmp_path / "dup.ifc")
    text = built.path.read_text()
    text = text.replace(built.ids["Room B"], built.ids["Room A"])
    built.path.write_text(text)
    with pytest.raises(IfcImportError, match="GlobalId used by 2 entities") as caught:
        read_ifc(built.path)
    assert caught.value.entity == f"GlobalId {built.ids['Room A']}"
    assert "IfcSpace" in str(caught.value)
