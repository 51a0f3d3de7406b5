#!/usr/bin/env python3
# Generates data/dunkirk-seasonal from data/dunkirk (see its SOURCES.md). Run from the repository root.
import csv, io, os
src, out = "data/dunkirk", "data/dunkirk-seasonal"
os.makedirs(out, exist_ok=True)

def read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))

def write(path, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(rows)
    with open(path, "w") as f:
        f.write(buf.getvalue())

firms = read(f"{src}/firms.csv")
firms += [
    ["dunkerque_biogas", "Candidate biowaste anaerobic digestion plant (Port de Dunkerque)", "51.045", "2.315", "E38.21", "Port de Dunkerque", "estimate", "ESTIMATE: a candidate investment, not an existing plant; coordinates placed between the city and DK6"],
    ["cud_biowaste", "Dunkirk urban community: separately collected household food waste", "51.031", "2.372", "E38.11", "Dunkerque", "estimate", "ESTIMATE: stands for the community's biowaste collection rounds"],
    ["dunkirk_food_businesses", "Dunkirk canteens, restaurants and markets (pooled food waste)", "51.036", "2.38", "I56.10", "Dunkerque", "estimate", "ESTIMATE: representative pooled producers, not named real firms"],
]
write(f"{out}/firms.csv", firms)

flows = read(f"{src}/flows.csv")
header = flows[0]
note_at = header.index("note")
header.insert(note_at, "profile")
for row in flows[1:]:
    row.insert(note_at, "district_heating" if row[0] in ("dh_dunkerque_heat", "dh_grande_synthe_heat") else "")
flows += [
    ["cud_food_waste", "cud_biowaste", "supply", "food_waste", "6000", "incineration_biogenic", "", "t", "estimate", "", "ESTIMATE: about 200,000 inhabitants x 30 kg of separately collected food waste a year"],
    ["food_businesses_waste", "dunkirk_food_businesses", "supply", "food_waste", "10000", "incineration_biogenic", "", "t", "estimate", "", "ESTIMATE: canteens, restaurants and markets of the urban area"],
]
write(f"{out}/flows.csv", flows)
with open(f"{src}/distances.csv") as f:
    text = f.read()
with open(f"{out}/distances.csv", "w") as f:
    f.write(text)

# Seasons of a non-leap year.
slices = [("winter", 90 * 24, "December to February"), ("spring", 92 * 24, "March to May"), ("summer", 92 * 24, "June to August"), ("autumn", 91 * 24, "September to November")]
assert sum(h for _, h, _ in slices) == 8760
write(f"{out}/slices.csv", [["slice", "hours", "note"]] + [[s, str(h), n] for s, h, n in slices])
# Heating degree-days (base 18 C), Lille-Lesquin normals, rounded (ESTIMATE):
dd = {"winter": 410 + 360 + 390, "spring": 320 + 240 + 150, "summer": 70 + 30 + 30, "autumn": 80 + 200 + 320}
total_dd = sum(dd.values())
hours = {s: h for s, h, _ in slices}
dhw = 0.15  # share of delivered heat that is hot water, spread like the hours
shares = {s: (1 - dhw) * dd[s] / total_dd + dhw * hours[s] / 8760 for s in dd}
vals = {s: round(v, 9) for s, v in shares.items()}
vals["autumn"] = round(1 - vals["winter"] - vals["spring"] - vals["summer"], 9)
write(f"{out}/profiles.csv", [["profile", "slice", "share"]] + [["district_heating", s, repr(vals[s])] for s, _, _ in slices])
print(vals)

write(f"{out}/processes.csv", [
    ["process_id", "firm_id", "capacity", "cost_eur_per_activity", "fixed_cost_eur_per_year", "source", "note"],
    ["dunkerque_digester", "dunkerque_biogas", "25000", "35", "1180000", "estimate",
     "ESTIMATE: activity = t of food waste; 25,000 t a year; 35 EUR/t operating (energy, staff, upgrading); fixed 1.18 MEUR a year = 12 MEUR at 4 % over 20 years (0.88) + 0.30 fixed upkeep"],
])
write(f"{out}/process_io.csv", [
    ["process_id", "resource", "direction", "per_activity", "fallback", "source", "note"],
    ["dunkerque_digester", "food_waste", "in", "1", "", "estimate", "one activity unit is one t of food waste"],
    ["dunkerque_digester", "biomethane", "out", "0.8", "biomethane_flaring", "estimate", "ESTIMATE: about 90 Nm3 CH4 a t x 9.97 kWh/Nm3 = 0.9 MWh, less about 10 % used by the plant"],
    ["dunkerque_digester", "digestate", "out", "0.85", "digestate_spreading", "estimate", "ESTIMATE: about 85 % of the input mass leaves as digestate"],
])
