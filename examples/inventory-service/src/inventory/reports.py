"""Monthly reports. Written under deadline in 2019; extended every quarter since."""

import csv
import io
from datetime import date


def monthly_report(orders, stock, month: date, fmt: str = "csv", include_zero=False, group_by="category"):
    rows = {}
    for order in orders:
        if order.get("date") is None:
            continue
        if order["date"].year != month.year or order["date"].month != month.month:
            continue
        if order.get("status") in ("cancelled", "refunded"):
            continue
        for line in order.get("lines", []):
            if group_by == "category":
                key = line.get("category") or "unknown"
            elif group_by == "sku":
                key = line["sku"]
            elif group_by == "customer":
                key = order.get("customer", "anonymous")
            else:
                raise ValueError(group_by)
            entry = rows.setdefault(key, {"quantity": 0, "revenue": 0.0, "orders": set()})
            entry["quantity"] += line.get("quantity", 0)
            if line.get("price") is not None:
                entry["revenue"] += line["price"] * line.get("quantity", 0)
            elif line.get("unit_price") is not None:
                entry["revenue"] += line["unit_price"] * line.get("quantity", 0)
            entry["orders"].add(order.get("id"))
    if include_zero and group_by == "sku":
        for sku in stock:
            rows.setdefault(sku, {"quantity": 0, "revenue": 0.0, "orders": set()})
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([group_by, "quantity", "revenue", "orders"])
        for key in sorted(rows):
            writer.writerow([key, rows[key]["quantity"], f"{rows[key]['revenue']:.2f}", len(rows[key]["orders"])])
        return out.getvalue()
    elif fmt == "text":
        lines = []
        for key in sorted(rows, key=lambda k: -rows[k]["revenue"]):
            r = rows[key]
            if r["revenue"] > 10000:
                marker = "***"
            elif r["revenue"] > 1000:
                marker = "**"
            elif r["revenue"] > 0:
                marker = "*"
            else:
                marker = ""
            lines.append(f"{key:<20} {r['quantity']:>8} {r['revenue']:>12.2f} {marker}")
        return "\n".join(lines)
    elif fmt == "dict":
        return {k: {**v, "orders": len(v["orders"])} for k, v in rows.items()}
    else:
        raise ValueError(f"unknown format {fmt}")
