"""The demo brand: a warehouse and six stores in Istanbul and Ankara, 60 products, users, and
orders that give every store tab some work (demo_orders.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import (
    CargoCompany,
    Channel,
    DenialReason,
    Product,
    ProductBarcode,
    Scenario,
    ScenarioRule,
    Setting,
    Stock,
    StockLedger,
    StockLocation,
    User,
)
from app.models.users import username_key
from app.services.demo_orders import seed_demo_orders
from app.services.said import N_
from app.services.users import hash_password

# code, name, type, city, district, lat, lon, priority, max_quota, target minutes, pickup
LOCATIONS = [
    ("WH-IST", "Istanbul Warehouse", "warehouse", "Istanbul", "Tuzla", 40.8160, 29.3030, 50, None, 240, False),
    ("IST-KDK", "Kadıköy Store", "store", "Istanbul", "Kadıköy", 40.9903, 29.0290, 10, 40, 120, True),
    ("IST-BSK", "Beşiktaş Store", "store", "Istanbul", "Beşiktaş", 41.0430, 29.0070, 10, 40, 120, True),
    ("IST-SSL", "Nişantaşı Store", "store", "Istanbul", "Şişli", 41.0520, 28.9930, 20, 30, 120, True),
    ("IST-BKR", "Bakırköy Store", "store", "Istanbul", "Bakırköy", 40.9780, 28.8720, 20, 30, 180, True),
    ("ANK-KZL", "Kızılay Store", "store", "Ankara", "Çankaya", 39.9208, 32.8541, 10, 40, 120, True),
    ("ANK-TNL", "Tunalı Store", "store", "Ankara", "Çankaya", 39.9035, 32.8597, 20, 30, 120, True),
]
DEMO_TIME_ZONE = "Europe/Istanbul"
CHANNELS = [("web", "Web shop", False), ("trendyol", "Trendyol", True)]
# Stored in English, like the rest of master data; the titles are catalogue sentences too, so a
# screen that says a reason's title through the catalogue (`said.text(said.said(title))`) shows
# them in Turkish, while a brand's own titles are shown as typed (docs/decisions.md).
DENIAL_REASONS = [
    ("damaged", N_("Item damaged"), 10),
    ("not_found", N_("Item not found in the store"), 20),
    ("store_busy", N_("Store too busy to prepare"), 30),
    ("wrong_item", N_("Wrong item on the shelf"), 40),
]
PRODUCT_LINES = [
    ("TSHIRT", "T-shirt", 0.25, ["S", "M", "L", "XL"]),
    ("JEANS", "Slim jeans", 0.7, ["30", "32", "34", "36"]),
    ("HOODIE", "Hoodie", 0.6, ["S", "M", "L", "XL"]),
    ("SNEAKER", "Canvas sneaker", 0.9, ["38", "40", "42", "44"]),
    ("SCARF", "Wool scarf", 0.2, ["ONE"]),
    ("CAP", "Baseball cap", 0.15, ["ONE"]),
    ("JACKET", "Rain jacket", 0.8, ["S", "M", "L"]),
    ("SOCKS", "Socks 3-pack", 0.12, ["39-42", "43-46"]),
    ("DRESS", "Summer dress", 0.35, ["XS", "S", "M", "L"]),
    ("SHIRT", "Oxford shirt", 0.3, ["S", "M", "L", "XL"]),
    ("BAG", "Tote bag", 0.4, ["ONE"]),
    ("BELT", "Leather belt", 0.3, ["85", "95", "105"]),
    ("SKIRT", "Pleated skirt", 0.3, ["S", "M", "L"]),
    ("SHORTS", "Chino shorts", 0.3, ["30", "32", "34", "36"]),
    ("SWEATER", "Merino sweater", 0.45, ["S", "M", "L", "XL"]),
    ("BEANIE", "Knit beanie", 0.1, ["ONE"]),
]
COLOURS = ["Black", "Navy"]

ADMIN_PASSWORD = "packline-admin"
SUPERVISOR_PASSWORD = "packline-super"
STAFF_PASSWORD = "packline-staff"


@dataclass
class DemoLogin:
    username: str
    password: str
    role: str
    location: str | None = None


def ean13(seed: int) -> str:
    body = f"869{seed:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def staff_username(code: str) -> str:
    return "staff-" + code.lower()


def demo_logins() -> list[DemoLogin]:
    logins = [DemoLogin("admin", ADMIN_PASSWORD, "admin"), DemoLogin("supervisor", SUPERVISOR_PASSWORD, "supervisor")]
    for code, *_rest in LOCATIONS:
        logins.append(DemoLogin(staff_username(code), STAFF_PASSWORD, "staff", code))
    return logins


def seed_demo() -> dict[str, int]:
    """Create whatever part of the demo brand is missing; running it again changes nothing. Commits."""
    created = {"locations": 0, "channels": 0, "products": 0, "stock": 0, "users": 0}
    locations = {loc.code: loc for loc in db.session.scalars(select(StockLocation))}
    for code, name, kind, city, district, lat, lon, priority, quota, minutes, pickup in LOCATIONS:
        if code in locations:
            continue
        locations[code] = StockLocation(
            code=code, name=name, type=kind, city=city, district=district, latitude=lat, longitude=lon,
            address=f"{district}, {city}", priority=priority, max_quota=quota,
            target_packaging_minutes=minutes, is_packaging_center=True, is_transfer_source=True,
            is_pickup_location=pickup, active=True, tags=["demo"],
        )
        db.session.add(locations[code])
        created["locations"] += 1

    existing_channels = set(db.session.scalars(select(Channel.code)))
    for code, name, own_label in CHANNELS:
        if code not in existing_channels:
            db.session.add(Channel(code=code, name=name, provides_shipping_label=own_label))
            created["channels"] += 1
    if not db.session.scalar(select(CargoCompany.id).where(CargoCompany.code == "demo")):
        db.session.add(CargoCompany(code="demo", name="Demo Cargo", adapter="demo",
                                    config={"deliver_after_minutes": 60}))
    existing_reasons = set(db.session.scalars(select(DenialReason.code)))
    for code, title, priority in DENIAL_REASONS:
        if code not in existing_reasons:
            db.session.add(DenialReason(code=code, title=title, priority=priority, active=True))

    products = {p.sku: p for p in db.session.scalars(select(Product))}
    seq = 0
    for prefix, title, weight, sizes in PRODUCT_LINES:
        for colour in COLOURS:
            for size in sizes:
                seq += 1
                sku = f"{prefix}-{colour[:3].upper()}-{size}"
                if sku in products:
                    continue
                product = Product(sku=sku, name=f"{title}, {colour}, {size}",
                                  weight_kg=Decimal(str(weight)), image_url=None)
                product.barcodes.append(ProductBarcode(barcode=ean13(seq)))
                products[sku] = product
                db.session.add(product)
                created["products"] += 1
    db.session.flush()

    have_stock = {(s.location_id, s.product_id) for s in db.session.scalars(select(Stock))}
    rng = random.Random(20261123)  # same demo stock on every machine
    for code, *_rest in LOCATIONS:
        location = locations[code]
        for sku in sorted(products):
            product = products[sku]
            # Uneven on purpose: the warehouse is deep, stores are patchy. Drawn before the
            # "already there" check so a re-run sees the same sequence.
            if location.type == "warehouse":
                quantity = rng.choice([0, 5, 10, 20, 40])
            else:
                quantity = rng.choice([0, 0, 0, 1, 1, 2, 3, 5])
            if quantity == 0 or (location.id, product.id) in have_stock:
                continue
            db.session.add(Stock(location_id=location.id, product_id=product.id, on_hand=quantity, reserved=0))
            db.session.add(StockLedger(location_id=location.id, product_id=product.id, on_hand_delta=quantity,
                                       reserved_delta=0, on_hand_after=quantity, reserved_after=0,
                                       reason="initial_stock", actor="system:seed", reference="seed-demo"))
            created["stock"] += 1

    created["scenarios"] = _seed_scenarios(locations)
    # The brand's screens show Istanbul time; the demo locations have no zone of their own, so they use it.
    if db.session.get(Setting, "TIME_ZONE") is None:
        db.session.add(Setting(key="TIME_ZONE", value=DEMO_TIME_ZONE))

    usernames = set(db.session.scalars(select(User.username_key)))  # "Admin" made by hand is "admin"
    hashes: dict[str, str] = {}  # the demo's public passwords, hashed once each: scrypt is slow on purpose
    for login in demo_logins():
        if username_key(login.username) in usernames:
            continue
        if login.password not in hashes:
            hashes[login.password] = hash_password(login.password)
        user = User(username=login.username, role=login.role, password_hash=hashes[login.password])
        if login.location:
            user.locations = [locations[login.location]]
        db.session.add(user)
        created["users"] += 1
    db.session.commit()
    created["orders"] = seed_demo_orders()
    return created


# name, priority, conditions, rules — the demo's distribution logic (see docs/planning.md)
_NEAREST = [{"by": "distance", "order": "asc"}]
DEMO_SCENARIOS = [
    ("Click & collect", 10, {"delivery_types": ["click_and_collect"]}, [
        {"name": "Pickup store, else transfer from the nearest source", "sort": _NEAREST}]),
    ("Marketplaces", 20, {"channels": ["trendyol"]}, [
        {"name": "Warehouse first", "location_type": "warehouse", "sort": [{"by": "priority", "order": "asc"}]},
        {"name": "Store in the customer's city with room", "location_type": "store", "same_city": True,
         "use_quota": True, "sort": [{"by": "load", "order": "asc"}, {"by": "distance", "order": "asc"}]},
        {"name": "Split over at most two locations", "allow_split": True, "max_packages": 2, "sort": _NEAREST}]),
    ("Web shop", 30, {}, [
        {"name": "Nearest store with room", "location_type": "store", "use_quota": True,
         "sort": [{"by": "distance", "order": "asc"}, {"by": "priority", "order": "asc"}]},
        {"name": "Split over at most two stores", "location_type": "store", "use_quota": True,
         "allow_split": True, "max_packages": 2, "sort": _NEAREST},
        {"name": "Warehouse", "location_type": "warehouse", "sort": _NEAREST},
        {"name": "Nearest store, missing units from the warehouse", "location_type": "store", "use_quota": True,
         "sort": _NEAREST, "transferable": True, "transfer_sources": ["WH-IST"]}]),
]


def _seed_scenarios(locations: dict[str, StockLocation]) -> int:
    """The demo's scenarios, parked at the Istanbul warehouse when nothing fits (flush only)."""
    existing = set(db.session.scalars(select(Scenario.name)))
    made = 0
    for name, priority, conditions, rules in DEMO_SCENARIOS:
        if name in existing:
            continue
        scenario = Scenario(name=name, priority=priority, active=True, default_location=locations["WH-IST"],
                            conditions={"channels": [], "delivery_types": [], "payment_types": [],
                                        "cargo_companies": [], **conditions})
        for position, rule in enumerate(rules, start=1):
            scenario.rules.append(ScenarioRule(position=position, **{
                "locations": [], "exclude": [], "location_type": None, "same_city": False, "use_quota": False,
                "allow_split": False, "max_packages": 1, "transferable": False, "transfer_sources": [], **rule}))
        db.session.add(scenario)
        made += 1
    return made
