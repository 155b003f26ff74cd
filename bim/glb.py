"""A small glTF 2.0 binary (GLB) writer: meshes, instancing nodes, colour-merged materials.

Only what the 3D view needs: triangle primitives with positions and normals, a flat list of nodes
with ``extras`` for picking, and a material per distinct colour. Written with numpy so the
project needs no glTF dependency.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_FLOAT, _UINT32 = 5126, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_GLB_MAGIC, _JSON, _BIN = 0x46546C67, 0x4E4F534A, 0x004E4942

Rgba = tuple[float, float, float, float]
_IDENTITY = np.eye(4)


@dataclass(slots=True)
class Primitive:
    """One material's triangles of a mesh: float32 positions and normals, uint32 indices."""

    positions: np.ndarray
    normals: np.ndarray | None
    indices: np.ndarray
    colour: Rgba


@dataclass(slots=True)
class GlbBuilder:
    """Collect meshes and nodes, then write them as one GLB file."""

    _json: dict[str, Any] = field(
        default_factory=lambda: {
            "asset": {"version": "2.0", "generator": "community-twin bim"},
            "scene": 0,
            "scenes": [{"nodes": []}],
            "nodes": [],
            "meshes": [],
            "materials": [],
            "accessors": [],
            "bufferViews": [],
            "buffers": [{"byteLength": 0}],
        }
    )
    _chunks: list[bytes] = field(default_factory=list)
    _size: int = 0
    _materials: dict[Rgba, int] = field(default_factory=dict)

    @property
    def node_count(self) -> int:
        """Return how many nodes were added."""
        return len(self._json["nodes"])

    def add_mesh(self, primitives: list[Primitive], name: str = "") -> int:
        """Store a mesh once and return its index, for as many nodes as reuse it."""
        encoded = []
        for primitive in primitives:
            if len(primitive.indices) == 0:
                continue
            positions = np.ascontiguousarray(primitive.positions, dtype=np.float32)
            attributes = {"POSITION": self._accessor(positions, "VEC3", with_bounds=True)}
            if primitive.normals is not None and len(primitive.normals) == len(positions):
                attributes["NORMAL"] = self._accessor(
                    np.ascontiguousarray(primitive.normals, dtype=np.float32), "VEC3"
                )
            indices = self._accessor(
                np.ascontiguousarray(primitive.indices, dtype=np.uint32).ravel(), "SCALAR"
            )
            encoded.append(
                {"attributes": attributes, "indices": indices, "material": self._material(primitive.colour)}
            )
        self._json["meshes"].append({"name": name, "primitives": encoded})
        return len(self._json["meshes"]) - 1

    def add_node(self, mesh: int, matrix: np.ndarray, name: str, extras: dict[str, Any]) -> None:
        """Add a root node drawing ``mesh`` with a 4×4 row-major transform."""
        node: dict[str, Any] = {"name": name, "mesh": mesh, "extras": extras}
        if not np.array_equal(matrix, _IDENTITY):
            node["matrix"] = [float(v) for v in np.asarray(matrix, dtype=np.float64).T.ravel()]
        self._json["scenes"][0]["nodes"].append(len(self._json["nodes"]))
        self._json["nodes"].append(node)

    def write(self, path: Path) -> int:
        """Write the GLB file and return its size in bytes."""
        self._json["buffers"][0]["byteLength"] = self._size
        # glTF forbids empty arrays: a storey whose every element failed still gets a valid file.
        document = {
            k: v for k, v in self._json.items() if v != [] and not (k == "buffers" and not self._size)
        }
        document["scenes"] = [{"nodes": n} if (n := self._json["scenes"][0]["nodes"]) else {}]
        header = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        header += b" " * (-len(header) % 4)
        binary = b"".join(self._chunks)
        total = 12 + 8 + len(header) + (8 + len(binary) if binary else 0)
        with path.open("wb") as out:
            out.write(struct.pack("<III", _GLB_MAGIC, 2, total))
            out.write(struct.pack("<II", len(header), _JSON) + header)
            if binary:
                out.write(struct.pack("<II", len(binary), _BIN))
                out.write(binary)
        return total

    def _accessor(self, data: np.ndarray, kind: str, *, with_bounds: bool = False) -> int:
        raw = data.tobytes()
        view = {
            "buffer": 0,
            "byteOffset": self._size,
            "byteLength": len(raw),
            "target": _ELEMENT_ARRAY_BUFFER if kind == "SCALAR" else _ARRAY_BUFFER,
        }
        self._chunks.append(raw + b"\0" * (-len(raw) % 4))
        self._size += len(raw) + (-len(raw) % 4)
        self._json["bufferViews"].append(view)
        accessor: dict[str, Any] = {
            "bufferView": len(self._json["bufferViews"]) - 1,
            "componentType": _UINT32 if data.dtype == np.uint32 else _FLOAT,
            "count": len(data),
            "type": kind,
        }
        if with_bounds:
            accessor["min"] = data.min(axis=0).tolist()
            accessor["max"] = data.max(axis=0).tolist()
        self._json["accessors"].append(accessor)
        return len(self._json["accessors"]) - 1

    def _material(self, colour: Rgba) -> int:
        key: Rgba = (round(colour[0], 3), round(colour[1], 3), round(colour[2], 3), round(colour[3], 3))
        if key not in self._materials:
            material: dict[str, Any] = {
                "pbrMetallicRoughness": {
                    "baseColorFactor": list(key),
                    "metallicFactor": 0.0,
                    "roughnessFactor": 0.9,
                },
                "doubleSided": True,
            }
            if key[3] < 1.0:
                material["alphaMode"] = "BLEND"
            self._materials[key] = len(self._json["materials"])
            self._json["materials"].append(material)
        return self._materials[key]


def read_glb(path: Path) -> tuple[dict[str, Any], bytes]:
    """Return the JSON and binary chunks of a GLB file, checking its header (tests, tools)."""
    data = path.read_bytes()
    magic, version, length = struct.unpack_from("<III", data, 0)
    if magic != _GLB_MAGIC or version != 2 or length != len(data):
        raise ValueError(f"{path.name}: not a GLB 2.0 file of {len(data)} bytes")
    json_length, json_type = struct.unpack_from("<II", data, 12)
    if json_type != _JSON:
        raise ValueError(f"{path.name}: first chunk is not JSON")
    document = json.loads(data[20 : 20 + json_length])
    rest = 20 + json_length
    binary = b""
    if rest < len(data):
        bin_length, bin_type = struct.unpack_from("<II", data, rest)
        if bin_type != _BIN:
            raise ValueError(f"{path.name}: second chunk is not BIN")
        binary = data[rest + 8 : rest + 8 + bin_length]
    return document, binary
