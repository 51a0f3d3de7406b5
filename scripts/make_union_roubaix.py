#!/usr/bin/env python3
# Generates data/union-roubaix (quantities and profile shares from the
# assumptions documented in SOURCES.md). Run from the repository root.
import math, os
out = "data/union-roubaix"
os.makedirs(out, exist_ok=True)
slices = [("weekday_morning", 1305), ("weekday_afternoon", 1566), ("weekday_evening_night", 3393), ("weekend", 2496)]
H = [h for _, h in slices]

def hav(a, b):
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2-la1)/2)**2 + math.cos(la1)*math.cos(la2)*math.sin((lo2-lo1)/2)**2
    return 2*6371*math.asin(math.sqrt(h))

firms = [
 # id, name, lat, lon, sector, zone, source, note
 ("silo_ruche", "Mutualised parking silo of the Ruche d'entreprises (mobility hub)", 50.7122, 3.1690, "H52.21", "Tourcoing - L'Union", "lemoniteur-ruche", "380 spaces (4 decks of 95); ESTIMATE: coordinates; stands for the silo as a service centre (car-sharing, parcel relay)"),
 ("silo_plaine_images", "Mutable parking silo of the Plaine Images", 50.7052, 3.1652, "H52.21", "Tourcoing - Plaine Images", "dealzua-silo", "ESTIMATE: 300 spaces and coordinates; bike hire and guarding on the ground floor (source)"),
 ("stephenson_housing", "Housing, Stephenson block", 50.7088, 3.1700, "L68.20", "Roubaix - Stephenson", "cerdd-union;estimate", "ESTIMATE: representative housing block of the Union's programme; not a named real building"),
 ("tossee_housing", "Housing, La Tossee", 50.7108, 3.1728, "L68.20", "Tourcoing - La Tossee", "cerdd-union;estimate", "ESTIMATE: representative housing block; not a named real building"),
 ("quais_housing", "Housing, canal quays", 50.7066, 3.1688, "L68.20", "Roubaix - Quais", "cerdd-union;estimate", "ESTIMATE: representative housing block; not a named real building"),
 ("kipsta_offices", "Kipsta (Decathlon) offices and store", 50.7131, 3.1706, "G47.64", "Tourcoing - Rives de l'Union", "cerdd-union;lemoniteur-ruche", "ESTIMATE: coordinates and staff; faces the Ruche d'entreprises (source)"),
 ("kipstadium", "Kipstadium visitors (sports venue)", 50.7136, 3.1700, "R93.11", "Tourcoing - Rives de l'Union", "lemoniteur-ruche;estimate", "ESTIMATE: visitors of the venue as one parking demand"),
 ("ruche_entreprises", "Ruche d'entreprises (84 offices, 11 workshops)", 50.7119, 3.1684, "N82.11", "Tourcoing - L'Union", "lemoniteur-ruche", "84 offices and 11 workshops on 7,000 m2; ESTIMATE: coordinates and staff"),
 ("ceti", "CETI (European centre for innovative textiles)", 50.7090, 3.1672, "M72.19", "Tourcoing - L'Union", "cerdd-union", "ESTIMATE: coordinates and staff"),
 ("plaine_images", "Plaine Images (image, video-game and media firms)", 50.7046, 3.1660, "J59.11", "Tourcoing - Plaine Images", "cerdd-union;dealzua-silo", "ESTIMATE: coordinates and staff; one point for the cluster"),
 ("lmh_hq", "Lille Metropole Habitat head office", 50.7083, 3.1690, "L68.20", "Roubaix - L'Union", "cerdd-union", "ESTIMATE: coordinates and staff"),
 ("secretariat_platform", "Shared medical secretariat platform", 50.7086, 3.1714, "N82.20", "L'Union", "editionscdp-telesecretariat;estimate", "ESTIMATE: a shared call-handling platform as in the source; location irrelevant (remote service)"),
 ("maison_sante_union", "Multi-professional health centre (4 GPs)", 50.7072, 3.1725, "Q86.21", "Roubaix - L'Union", "hellocare-secretariat;estimate", "ESTIMATE: representative practice; not a named real practice"),
 ("kine_union", "Physiotherapy practice (4 physiotherapists)", 50.7099, 3.1740, "Q86.90", "Tourcoing - L'Union", "estimate", "ESTIMATE: representative practice; not a named real practice"),
 ("dentistes_union", "Dental practice (3 dentists)", 50.7061, 3.1702, "Q86.23", "Roubaix - L'Union", "estimate", "ESTIMATE: representative practice; not a named real practice"),
 ("pediatre_union", "Paediatric practice", 50.7113, 3.1719, "Q86.22", "Tourcoing - L'Union", "estimate", "ESTIMATE: representative practice; not a named real practice"),
 ("orthophonie_union", "Speech therapy practice (2 speech therapists)", 50.7079, 3.1748, "Q86.90", "Roubaix - L'Union", "estimate", "ESTIMATE: representative practice; not a named real practice"),
 ("radiologie_union", "Medical imaging centre", 50.7055, 3.1735, "Q86.22", "Wattrelos - L'Union", "estimate", "ESTIMATE: representative practice; not a named real practice"),
]
pos = {f[0]: (f[2], f[3]) for f in firms}

def shaped(fr):
    """shares and annual units per peak unit for average-rate fractions per slice"""
    w = [f*h for f, h in zip(fr, H)]
    s = sum(w)
    return [x/s for x in w], s

profiles = {}
def add_shaped(name, fr):
    sh, per_peak = shaped(fr)
    profiles[name] = sh
    return per_peak
def add_shares(name, sh):
    assert abs(sum(sh)-1) < 1e-12
    profiles[name] = sh

pp = {}
pp["residents_parking"] = add_shaped("residents_parking", [0.35, 0.40, 1.0, 0.75])
pp["employees_parking"] = add_shaped("employees_parking", [0.95, 1.0, 0.03, 0.04])
pp["visitors_parking"] = add_shaped("visitors_parking", [0.20, 0.55, 0.35, 1.0])
pp["residents_car"] = add_shaped("residents_car", [0.30, 0.40, 0.50, 1.0])
pp["business_car"] = add_shaped("business_car", [0.80, 1.0, 0.04, 0.0])
pp["workers_bike"] = add_shaped("workers_bike", [1.0, 0.70, 0.08, 0.0])
pp["leisure_bike"] = add_shaped("leisure_bike", [0.12, 0.25, 0.12, 1.0])
add_shares("parcel_deliveries", [0.45, 0.45, 0.0, 0.10])
open_h = [1305, 1566, 0, 468]
add_shares("relay_opening", [h/sum(open_h) for h in open_h])
add_shares("platform_hours", [1305/2871, 1566/2871, 0.0, 0.0])
add_shares("gp_calls", [0.70, 0.25, 0.0, 0.05])
add_shares("physio_calls", [0.30, 0.70, 0.0, 0.0])
add_shares("dental_calls", [0.40, 0.60, 0.0, 0.0])
add_shares("paediatric_calls", [0.65, 0.30, 0.0, 0.05])
add_shares("imaging_calls", [0.50, 0.45, 0.0, 0.05])
add_shares("speech_therapy_calls", [0.20, 0.80, 0.0, 0.0])

def r(x, d=6):
    return float(f"{x:.{d}g}") if x else 0.0

flows = []  # id, firm, kind, resource, quantity, fallback, profile, note
def F(fid, firm, kind, res, q, fb, prof, note):
    flows.append((fid, firm, kind, res, round(q), fb, prof, note))

# Parking (space_h): silos offer spaces x 8760 h.
F("silo_ruche_parking", "silo_ruche", "supply", "parking_space_h", 380*8760, "", "", "380 spaces x 8760 h (4 decks of 95 spaces, lemoniteur-ruche); idle capacity is costless")
F("silo_plaine_images_parking", "silo_plaine_images", "supply", "parking_space_h", 300*8760, "", "", "ESTIMATE: 300 spaces x 8760 h")
for fid, firm, peak, group, route, note in [
    ("stephenson_parking", "stephenson_housing", 170, "residents_parking", "own_parking_residents", "ESTIMATE: 170 cars parked at night (210 dwellings x 0.8 car)"),
    ("tossee_parking", "tossee_housing", 150, "residents_parking", "own_parking_residents", "ESTIMATE: 150 cars at night (190 dwellings x 0.8)"),
    ("quais_parking", "quais_housing", 130, "residents_parking", "own_parking_residents", "ESTIMATE: 130 cars at night (160 dwellings x 0.8)"),
    ("kipsta_parking", "kipsta_offices", 140, "employees_parking", "own_parking_employees", "ESTIMATE: 140 cars of staff and customers by day"),
    ("ruche_parking", "ruche_entreprises", 80, "employees_parking", "own_parking_employees", "ESTIMATE: 80 cars by day for 84 offices and 11 workshops"),
    ("ceti_parking", "ceti", 40, "employees_parking", "own_parking_employees", "ESTIMATE: 40 cars by day"),
    ("plaine_images_parking", "plaine_images", 120, "employees_parking", "own_parking_employees", "ESTIMATE: 120 cars by day (the part of the cluster next to the silo)"),
    ("lmh_parking", "lmh_hq", 70, "employees_parking", "own_parking_employees", "ESTIMATE: 70 cars by day"),
    ("kipstadium_parking", "kipstadium", 110, "visitors_parking", "own_parking_visitors", "ESTIMATE: 110 cars on weekend average"),
]:
    F(fid, firm, "demand", "parking_space_h", peak*pp[group], route, group, note + f"; quantity = peak x {pp[group]:.0f} space_h per peak space (profile {group})")

# Car-sharing (vehicle_h)
F("silo_ruche_car_sharing", "silo_ruche", "supply", "car_sharing_vehicle_h", 8*8760, "", "", "ESTIMATE: 8 shared cars at the mobility hub x 8760 h")
for fid, firm, peak, group, note in [
    ("stephenson_car_use", "stephenson_housing", 3.0, "residents_car", "ESTIMATE: cars in use at the peak (weekend average) by households ready to give up a car"),
    ("tossee_car_use", "tossee_housing", 2.5, "residents_car", "ESTIMATE: as above"),
    ("quais_car_use", "quais_housing", 2.2, "residents_car", "ESTIMATE: as above"),
    ("kipsta_business_trips", "kipsta_offices", 2.5, "business_car", "ESTIMATE: pool cars in use by day for business trips"),
    ("lmh_business_trips", "lmh_hq", 1.8, "business_car", "ESTIMATE: pool cars in use by day (site visits)"),
]:
    F(fid, firm, "demand", "car_sharing_vehicle_h", peak*pp[group], "owned_car", group, note + f"; quantity = {peak} x {pp[group]:.0f} vehicle_h per peak car")

# Bike hire (bike_h)
F("silo_plaine_images_bikes", "silo_plaine_images", "supply", "bike_hire_bike_h", 40*8760, "", "", "ESTIMATE: 40 hire bikes at the silo (bike hire on its ground floor: dealzua-silo) x 8760 h")
for fid, firm, peak, group, note in [
    ("plaine_images_bikes", "plaine_images", 6.0, "workers_bike", "ESTIMATE: bikes in use by staff (errands, lunch, meetings)"),
    ("ceti_bikes", "ceti", 2.0, "workers_bike", "ESTIMATE: as above"),
    ("kipstadium_bikes", "kipstadium", 8.0, "leisure_bike", "ESTIMATE: visitors' bikes in use at weekends"),
    ("quais_bikes", "quais_housing", 6.0, "leisure_bike", "ESTIMATE: residents' leisure rides"),
]:
    F(fid, firm, "demand", "bike_hire_bike_h", peak*pp[group], "owned_bike", group, note + f"; quantity = {peak} x {pp[group]:.0f} bike_h per peak bike")

# Parcel relay (parcel)
F("silo_ruche_relay", "silo_ruche", "supply", "parcel_relay", 25*sum(open_h), "", "relay_opening", "ESTIMATE: counter handling 25 parcels an hour, open weekdays 8-19 h and Saturdays 9-18 h")
for fid, firm, q, note in [
    ("stephenson_parcels", "stephenson_housing", 6000, "ESTIMATE: 150 dwellings x 40 parcels a year"),
    ("tossee_parcels", "tossee_housing", 5000, "ESTIMATE: 125 dwellings x 40"),
    ("quais_parcels", "quais_housing", 4400, "ESTIMATE: 110 dwellings x 40"),
    ("kipsta_parcels", "kipsta_offices", 8000, "ESTIMATE: staff parcels delivered at work"),
    ("plaine_images_parcels", "plaine_images", 7000, "ESTIMATE: as above"),
    ("lmh_parcels", "lmh_hq", 4000, "ESTIMATE: as above"),
]:
    F(fid, firm, "demand", "parcel_relay", q, "home_delivery", "parcel_deliveries", note)

# Medical secretariat (agent_h): 2.5 min of call handling per call.
F("platform_agent_hours", "secretariat_platform", "supply", "secretariat_agent_h", 3*2871, "", "platform_hours", "ESTIMATE: 3 agents staffed weekdays 8-19 h (2,871 h a year)")
for fid, firm, calls_per_day, group, note in [
    ("msp_calls", "maison_sante_union", 160, "gp_calls", "4 GPs x 40 calls a day (20-60: hellocare-secretariat)"),
    ("kine_calls", "kine_union", 100, "physio_calls", "ESTIMATE: 4 physiotherapists x 25 calls a day"),
    ("dentistes_calls", "dentistes_union", 90, "dental_calls", "ESTIMATE: 3 dentists x 30 calls a day"),
    ("pediatre_calls", "pediatre_union", 50, "paediatric_calls", "ESTIMATE: 50 calls a day"),
    ("radiologie_calls", "radiologie_union", 80, "imaging_calls", "ESTIMATE: 80 calls a day"),
    ("orthophonie_calls", "orthophonie_union", 40, "speech_therapy_calls", "ESTIMATE: 2 speech therapists x 20 calls a day, mostly after school"),
]:
    q = calls_per_day * 250 * 2.5 / 60
    F(fid, firm, "demand", "secretariat_agent_h", q, "own_secretary", group, note + f"; x 250 days x 2.5 min = {q:.0f} agent_h")

def csv_cell(x):
    s = str(x)
    return f'"{s}"' if ("," in s or '"' in s) else s

with open(f"{out}/firms.csv", "w") as f:
    f.write("firm_id,name,lat,lon,sector,zone,source,note\n")
    for row in firms:
        f.write(",".join(csv_cell(c) for c in row) + "\n")
with open(f"{out}/flows.csv", "w") as f:
    f.write("flow_id,firm_id,kind,resource,quantity,fallback,profile,note\n")
    for row in flows:
        f.write(",".join(csv_cell(c) for c in row) + "\n")
with open(f"{out}/slices.csv", "w") as f:
    f.write("slice,hours,note\n")
    notes = ["Monday to Friday 8-13 h (261 days x 5 h)", "Monday to Friday 13-19 h (261 x 6 h)", "Monday to Friday 19-8 h (261 x 13 h)", "Saturday and Sunday (104 days x 24 h)"]
    for (s, h), n in zip(slices, notes):
        f.write(f"{s},{h},{csv_cell(n)}\n")
with open(f"{out}/profiles.csv", "w") as f:
    f.write("profile,slice,share\n")
    for name, sh in profiles.items():
        # Round to 9 digits, the last slice with a non-zero share takes the remainder.
        vals = [round(x, 9) for x in sh]
        last = max(i for i, x in enumerate(vals) if x > 0)
        vals[last] = round(1 - sum(v for i, v in enumerate(vals) if i != last), 9)
        assert abs(sum(vals) - 1) < 1e-9, name
        for (s, _), v in zip(slices, vals):
            if v != 0:
                f.write(f"{name},{s},{v}\n")

# reachability report
for fl in flows:
    if fl[2] != "demand": continue
    d = {s: hav(pos[fl[1]], pos[s]) for s in ["silo_ruche", "silo_plaine_images"]}
    print(fl[0], {k: round(v, 3) for k, v in d.items()})
for k, v in pp.items():
    print(k, round(v))

CRF = 0.04 / (1 - 1.04 ** -30)
under = 25000 * CRF + 275
silo = 11500 * CRF + 100
print("underground EUR/yr", under, "silo EUR/yr", silo, "silo per available space_h", silo / 8760, "at 70%", silo / 8760 / 0.7)
for g in ["residents_parking", "employees_parking", "visitors_parking"]:
    print(g, "EUR/space_h", under / pp[g], "tCO2e/space_h", 0.30 / pp[g])
print("silo t/space_h at 70%", 0.15 / 8760 / 0.7)
print("car shared t/vh", 0.5 / (8760 * 0.35), "bike shared", 0.025 / (8760 * 0.25), "bike own", 0.025 / 170)
