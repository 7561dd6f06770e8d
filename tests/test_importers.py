"""`import ktab` and `import bdm`: small files in each format become scenarios that `validate` accepts and
`run` runs; malformed files exit 2 naming the file, line, column and field; nothing is overwritten."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scenario.importers import (
    BENCHMARK_RISK_EXPONENT,
    BENCHMARK_WAR_COST,
    import_bdm,
    import_ktab,
    quoted,
    scenario_yaml,
    slug,
)
from sim.scenario.loader import ScenarioError, load_scenario
from sim.scenario.names import id_problem

ROOT = Path(__file__).resolve().parent.parent

KTAB_CSV = """\
Water talks,"Sharing a river, three parties",3,2,
Actor,Description,Power,Pstn1,Sal1,Pstn2,Sal2,
Upstream, dam owner, 100, 20, 60, 30, 20,
Downstream, farmers,  60, 80, 70, 75, 30
Delta,"fishers, coast", 20, 90, 40, 10, 10,
"""
# The variant KTAB's own examples use: a third column named Influence, dimension names in the headers,
# and a space after the trailing comma.
KTAB_CSV_NAMED = """\
Policy; scen 0,Reform appetite, 3, 1, 
Actor,Description,Influence,Policy Position,Policy Salience, 
XJ,Leader,100,30,30, 
LK,Premier,65,45,65, 
MY,Adviser,10,75,75, 
"""  # noqa: W291 - the trailing blanks are part of the format being tested
KTAB_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<Scenario xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="smpSchema.xsd">
  <name>River &amp; delta</name>
  <desc>Three parties, two dimensions</desc>
  <prngSeed>7</prngSeed>
  <Dimensions>
    <dName>Flow</dName>
    <dName>Quality</dName>
  </Dimensions>
  <Actors>
    <Actor>
      <name>Upstream</name>
      <description>dam owner</description>
      <capability>100</capability>
      <Position><dCoord>20</dCoord><dCoord>30</dCoord></Position>
      <Salience><dSal>60</dSal><dSal>20</dSal></Salience>
    </Actor>
    <Actor>
      <name>Downstream</name>
      <description>farmers</description>
      <capability>60</capability>
      <Position><dCoord>80</dCoord><dCoord>75</dCoord></Position>
      <Salience><dSal>70</dSal><dSal>30</dSal></Salience>
    </Actor>
    <Actor>
      <name>Delta</name>
      <description>fishers</description>
      <capability>20</capability>
      <Position><dCoord>90</dCoord><dCoord>10</dCoord></Position>
      <Salience><dSal>40</dSal><dSal>10</dSal></Salience>
    </Actor>
  </Actors>
  <IdealAdjustment>
    <iaPair><adjustingIdeal>Upstream</adjustingIdeal><referencePos>Upstream</referencePos><adjust>0.8</adjust></iaPair>
  </IdealAdjustment>
</Scenario>
"""
BDM_CSV = """\
Actor,Capability,Position,Salience
Union,80,20,90
Employers,100,80,70
"Government, federal",120,50,60
Idle,30,60,0
"""
BDM_CSV_STAKEHOLDERS = """\
Stakeholder,Resources,Position,Salience
North,50,10,80
South,50,90,80
"""


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def loaded(text: str, folder: Path) -> dict:
    """A scenario text as the loader validates it, and as plain data."""
    path = write(folder, "check.yaml", text)
    load_scenario(path)
    return yaml.safe_load(text)


# --------------------------------------------------------------------------- reading each format


def test_ktab_csv_becomes_a_scenario_rescaled_to_0_1_with_each_number_sourced(tmp_path: Path) -> None:
    imported = import_ktab(write(tmp_path, "water.csv", KTAB_CSV))
    assert imported.kind == "KTAB CSV" and imported.name == "Water talks"
    assert imported.description == "Sharing a river, three parties"
    text = scenario_yaml(imported)
    data = loaded(text, tmp_path)
    assert "battlefield" not in data
    assert data["sources"] == ["water.csv"]
    assert list(data["actors"]) == ["upstream", "downstream", "delta"]
    assert data["actors"]["downstream"]["position"] == {"dimension_1": 0.8, "dimension_2": 0.75}
    assert data["actors"]["delta"]["salience"] == {"dimension_1": 0.4, "dimension_2": 0.1}
    # capability: power x sum of saliences / 100, over the largest: 100 x 0.8, 60 x 1.0, 20 x 0.5
    assert data["actors"]["upstream"]["capability"] == 1.0
    assert data["actors"]["downstream"]["capability"] == pytest.approx(0.75)
    assert data["actors"]["delta"]["capability"] == pytest.approx(0.125)
    assert data["actors"]["delta"]["description"] == "fishers, coast"
    # Every number carries where it came from, and every other choice says it is an assumption.
    assert "# line 4, columns 27, 35, / 100" in text  # Downstream's positions: the 80 and the 75
    assert "# line 5, column 25: power 20" in text  # the value, past the blank before it
    for line in text.splitlines():
        value = line.split(":", 1)[1].strip() if ":" in line and not line.lstrip().startswith("#") else ""
        if value[:1].isdigit() or value.startswith("{"):
            assert "#" in line, f"a number without its origin: {line}"


def test_ktab_csv_as_ktabs_own_examples_write_it(tmp_path: Path) -> None:
    imported = import_ktab(write(tmp_path, "policy.csv", KTAB_CSV_NAMED))
    assert imported.dimensions == ["Policy"]
    assert [a.name for a in imported.actors] == ["XJ", "LK", "MY"]
    assert imported.actors[0].power.field == "Influence"
    data = loaded(scenario_yaml(imported), tmp_path)
    assert list(data["issues"]) == ["policy"]
    assert data["actors"]["my"]["position"] == {"policy": 0.75}


def test_ktab_xml_becomes_the_same_scenario(tmp_path: Path) -> None:
    from_xml = import_ktab(write(tmp_path, "water.xml", KTAB_XML))
    from_csv = import_ktab(write(tmp_path, "water.csv", KTAB_CSV))
    assert from_xml.kind == "KTAB XML" and from_xml.name == "River & delta"
    assert from_xml.dimensions == ["Flow", "Quality"]
    assert [[c.value for c in a.positions] for a in from_xml.actors] == [
        [c.value for c in a.positions] for a in from_csv.actors
    ]
    text = scenario_yaml(from_xml)
    data = loaded(text, tmp_path)
    assert list(data["issues"]) == ["flow", "quality"]
    assert data["actors"]["delta"]["position"] == {"flow": 0.9, "quality": 0.1}
    assert "IdealAdjustment" in text  # said to have no counterpart, not silently dropped
    upstream = from_xml.actors[0]
    assert (upstream.power.line, upstream.positions[1].line) == (14, 15)


@pytest.mark.parametrize("content", [BDM_CSV, BDM_CSV_STAKEHOLDERS])
def test_bdm_csv_in_both_header_forms(tmp_path: Path, content: str) -> None:
    imported = import_bdm(write(tmp_path, "stakes.csv", content))
    data = loaded(scenario_yaml(imported), tmp_path)
    assert list(data["issues"]) == ["stakes"]
    for actor in data["actors"].values():
        assert actor["consent_required"] is True
        assert actor["risk_exponent"] == BENCHMARK_RISK_EXPONENT and actor["war_cost"] == BENCHMARK_WAR_COST
    if content == BDM_CSV:
        # Idle has salience 0: it takes no part and a comment says so.
        assert "idle" not in data["actors"] and "Left out: Idle (line 5)" in scenario_yaml(imported)
        assert data["actors"]["government_federal"]["name"] == "Government, federal"


# --------------------------------------------------------------------------- round trip on the command line


@pytest.fixture(scope="module")
def round_trips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list]]:
    """Each format imported, validated and run by the command line: name -> (folder, processes)."""
    base = tmp_path_factory.mktemp("imports")
    sources = {
        "ktab_csv": ("ktab", write(base, "water.csv", KTAB_CSV)),
        "ktab_xml": ("ktab", write(base, "river.xml", KTAB_XML)),
        "bdm": ("bdm", write(base, "stakes.csv", BDM_CSV)),
    }
    results = {}
    for name, (kind, source) in sources.items():
        imported = cli("import", kind, str(source))
        scenario = source.with_suffix(".yaml")
        results[name] = (base, [imported, cli("validate", str(scenario))], scenario)
    runs = {
        name: subprocess.Popen(
            [sys.executable, "cli.py", "run", str(scenario), "--out", str(base / f"run_{name}")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (_, _, scenario) in results.items()
    }
    for name, process in runs.items():
        stdout, stderr = process.communicate(timeout=300)
        results[name][1].append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return results


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ktab_csv", "ktab_xml", "bdm"])
def test_import_validate_run(round_trips: dict, name: str) -> None:
    base, (imported, validated, ran), scenario = round_trips[name]
    for process in (imported, validated, ran):
        assert process.returncode == 0, process.stderr
        assert "Traceback" not in process.stderr
    assert f"wrote {scenario}" in " ".join(imported.stdout.split())
    assert validated.stdout.startswith("ok: ")
    assert (base / f"run_{name}" / "report.html").is_file()
    assert "deal" in ran.stdout.lower()


def test_an_existing_scenario_is_replaced_only_with_force(tmp_path: Path) -> None:
    source = write(tmp_path, "stakes.csv", BDM_CSV_STAKEHOLDERS)
    target = write(tmp_path, "mine.yaml", "# someone's own file\n")
    refused = cli("import", "bdm", str(source), "--out", str(target))
    assert refused.returncode == 1
    assert "exists" in refused.stderr and "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert target.read_text(encoding="utf-8") == "# someone's own file\n"
    forced = cli("import", "bdm", str(source), "--out", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "name:" in target.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_the_file_being_imported_is_never_the_output(tmp_path: Path) -> None:
    source = write(tmp_path, "stakes.yaml", BDM_CSV_STAKEHOLDERS)
    process = cli("import", "bdm", str(source), "--force")
    assert process.returncode == 1 and "being imported" in process.stderr
    assert source.read_text(encoding="utf-8") == BDM_CSV_STAKEHOLDERS


def test_text_from_the_file_reaches_the_terminal_escaped(tmp_path: Path) -> None:
    hostile = "Evil\x1b[31m [bold]x[/bold]"
    source = write(tmp_path, "evil.csv", f"Actor,Capability,Position,Salience\n{hostile},1,10,50\nB,1,90,50\n")
    process = cli("import", "bdm", str(source))
    assert process.returncode == 0, process.stderr
    assert "\x1b" not in process.stdout + process.stderr
    data = yaml.safe_load(source.with_suffix(".yaml").read_text(encoding="utf-8"))
    assert data["actors"]["evil_31m_bold_x_bold"]["name"] == hostile  # kept exactly, as an escaped YAML string
    bad = write(tmp_path, "bad.csv", "Actor,Capability,Position,Salience\nA,1,\x1b[2J,50\n")
    failed = cli("import", "bdm", str(bad))
    assert failed.returncode == 2 and "\x1b" not in failed.stderr and "\\x1b" in failed.stderr


# --------------------------------------------------------------------------- malformed files


MALFORMED = [
    # (format, file text, line, column, words the message must hold)
    ("bdm", "Actor,Capability,Position,Salience\nA,1,x,5\nB,1,5,5\n", 2, 5, ["Position", "number"]),
    ("bdm", "Actor,Capability,Position,Salience\nA,1,150,5\nB,1,5,5\n", 2, 5, ["Position", "0 to 100"]),
    ("bdm", "Actor,Capability,Position,Salience\nA,-1,15,5\nB,1,5,5\n", 2, 3, ["Capability", "at least 0"]),
    ("bdm", "Actor,Capability,Position,Salience\nA,1,15\nB,1,5,5\n", 2, 5, ["Salience", "missing"]),
    ("bdm", "Actor,Capability,Position,Salience\nA,1,15,5,9\nB,1,5,5\n", 2, 10, ["4 columns"]),
    ("bdm", "Actor;Capability;Position;Salience\nA;1;15;5\n", 1, 1, ["header"]),
    ("bdm", "Name,Capability,Position,Salience\nA,1,15,5\nB,1,5,5\n", 1, 1, ["header"]),
    ("bdm", "Actor,Capability,Position,Salience\nA,1,15,5\n", 2, None, ["at least 2"]),
    ("bdm", "Actor,Capability,Position,Salience\nA,1,15,5\na,2,5,5\n", 3, 1, ["twice"]),
    ("bdm", 'Actor,Capability,Position,Salience\n"A,1,15,5\nB,1,5,5\n', 2, 1, ["CSV"]),
    ("ktab", "S,d,2,1\nActor,Description,Power,P,S\nA,a,1,50,120\nB,b,1,50,50\n", 3, 10, ["salience", "0 to 100"]),
    ("ktab", "S,d,2,2\nActor,Description,Power,P1,S1,P2,S2\nA,a,1,50,60,50,50\nB,b,1,5,5,5,5\n", 3, 10, ["add up"]),
    ("ktab", "S,d,3,1\nActor,Description,Power,P,S\nA,a,1,50,50\nB,b,1,50,50\n", 1, 5, ["3 actors"]),
    ("ktab", "S,d,2,2\nActor,Description,Power,P,S\nA,a,1,50,50\nB,b,1,50,50\n", 2, 27, ["header", "5 columns"]),
    ("ktab", "S,d,2\n", 1, 1, ["line 1"]),
    ("ktab", "S,d,two,1\nActor,Description,Power,P,S\n", 1, 5, ["number of actors"]),
    ("ktab", "S,d,2,1\nName,Description,Power,P,S\nA,a,1,50,50\nB,b,1,5,5\n", 2, 1, ["Actor"]),
    ("ktab", "S,d,2,1\nActor,Description,Power,P,S\nA,a,1,50\nB,b,1,5,5\n", 3, 7, ["S is missing"]),
    ("ktab", "S,d,2,1\nActor,Description,Power,P,S\n,a,1,50,5\nB,b,1,5,5\n", 3, 1, ["name is empty"]),
    ("ktab", "<Scenario><name>x</name><Actors></Actors></Scenario>", 1, 25, ["0 actor"]),
    ("ktab", "<Scenario><name>x</name><Actors><Actor>", 1, 40, ["XML"]),  # the end of the file
    ("ktab", "<Other/>", 1, 1, ["<Scenario>"]),
    (
        "ktab",
        "<Scenario><name>x</name><Actors><Actor><name>A</name><capability>1</capability>"
        "<Position><dCoord>5</dCoord></Position></Actor></Actors></Scenario>",
        1,
        33,
        ["Salience"],
    ),
    (
        "ktab",
        "<Scenario><name>x</name><Actors>"
        + "<Actor><name>A</name><capability>1</capability><Position><dCoord>5</dCoord></Position>"
        "<Salience><dSal>5</dSal></Salience></Actor>"
        + "<Actor><name>B</name><capability>1</capability><Position><dCoord>5</dCoord><dCoord>9</dCoord>"
        "</Position><Salience><dSal>5</dSal></Salience></Actor></Actors></Scenario>",
        1,
        209,  # the second actor's <Position>
        ["dimension"],
    ),
]


@pytest.mark.parametrize(("kind", "text", "line", "column", "words"), MALFORMED)
def test_a_malformed_file_names_its_line_column_and_field(
    tmp_path: Path, kind: str, text: str, line: int | None, column: int | None, words: list[str]
) -> None:
    path = write(tmp_path, "input.xml" if text.startswith("<") else "input.csv", text)
    with pytest.raises(ScenarioError) as caught:
        (import_ktab if kind == "ktab" else import_bdm)(path)
    error = caught.value
    assert (error.line, error.column) == (line, column), error.render()
    for word in words:
        assert word in error.render(), error.render()


@pytest.mark.parametrize(
    "document",
    [
        # the "billion laughs": entities that expand to gigabytes
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n'
        "<Scenario><name>&lol2;</name></Scenario>",
        # an external entity that would read a local file
        '<?xml version="1.0"?>\n<!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<Scenario>&x;</Scenario>',
    ],
)
def test_xml_with_a_document_type_is_refused_before_any_entity_is_read(tmp_path: Path, document: str) -> None:
    path = write(tmp_path, "attack.xml", document)
    with pytest.raises(ScenarioError) as caught:
        import_ktab(path)
    assert caught.value.line == 2 and "document type" in caught.value.message


def test_a_malformed_file_exits_2_with_one_paragraph_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", "Actor,Capability,Position,Salience\nA,1,abc,5\nB,1,5,5\n")
    process = cli("import", "bdm", str(path))
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    message = " ".join(process.stderr.split())
    assert f"{path}:2:5: field 'Position'" in message
    assert not path.with_suffix(".yaml").exists()
    missing = cli("import", "ktab", str(tmp_path / "nowhere.csv"))
    assert missing.returncode == 2 and "not found" in missing.stderr


# --------------------------------------------------------------------------- properties


NAMES = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters='"'), min_size=1, max_size=20
).filter(lambda name: name.strip() != "")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            NAMES,
            st.floats(0.5, 500, allow_nan=False),
            st.lists(st.tuples(st.integers(0, 100), st.integers(1, 40)), min_size=2, max_size=2),
        ),
        min_size=2,
        max_size=8,
        unique_by=lambda actor: actor[0].strip().casefold(),
    )
)
def test_any_well_formed_ktab_file_round_trips(actors: list) -> None:
    """Positions and saliences read back as the file's numbers / 100, names exactly, ids valid, and the
    loader accepts the scenario."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Generated", "a test", len(actors), 2])
    writer.writerow(["Actor", "Description", "Power", "P1", "S1", "P2", "S2"])
    for name, power, dims in actors:
        writer.writerow([name, "", f"{power:.3f}", dims[0][0], dims[0][1], dims[1][0], dims[1][1]])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        imported = import_ktab(path)
        text = scenario_yaml(imported)
        (Path(folder) / "generated.yaml").write_text(text, encoding="utf-8")
        scenario = load_scenario(Path(folder) / "generated.yaml").scenario
    assert len(scenario.actors) == len(actors)
    for (actor_id, actor), (name, _, dims) in zip(scenario.actors.items(), actors, strict=True):
        assert id_problem(actor_id) is None
        assert actor.name == name.strip()
        assert list(actor.position.values()) == [dims[0][0] / 100, dims[1][0] / 100]
        assert list(actor.salience.values()) == [dims[0][1] / 100, dims[1][1] / 100]
    assert max(actor.capability for actor in scenario.actors.values()) == 1.0


@given(st.text(max_size=40))
def test_quoted_strings_read_back_exactly(text: str) -> None:
    assert yaml.safe_load(f"value: {quoted(text)}")["value"] == text


@given(st.text(max_size=40))
def test_ids_made_from_names_are_always_usable(text: str) -> None:
    assert id_problem(slug(text, "actor")) is None
