"""Order pricing. Every rule here was a customer request; none was ever removed."""

from datetime import date

from .models import Customer, Order

VAT = {"DE": 0.19, "FR": 0.20, "NL": 0.21, "AT": 0.20, "CH": 0.077}
EXPRESS_FEE = 14.90


def line_discount(customer: Customer, category: str, quantity: int, today: date) -> float:
    """Discount rate for one order line."""
    rate = 0.0
    if customer.tier == "gold":
        rate = 0.10
    elif customer.tier == "silver":
        rate = 0.05
    if category == "tools" and quantity >= 10:
        rate += 0.05
    elif category == "consumables" and quantity >= 100:
        rate += 0.08
    elif category == "consumables" and quantity >= 50:
        rate += 0.04
    if today.month == 12 and category != "tools":
        rate += 0.02
    if customer.since and (today - customer.since).days > 5 * 365:
        rate += 0.01
    return min(rate, 0.25)


def price_order(order: Order, today: date) -> dict:
    """Price an order: lines, discounts, coupon, shipping, VAT. Returns the breakdown."""
    subtotal = 0.0
    discount_total = 0.0
    warnings = []
    for line in order.lines:
        product = line.product
        if product.discontinued:
            warnings.append(f"{product.sku} is discontinued")
            continue
        if line.quantity <= 0:
            continue
        gross = product.unit_price * line.quantity
        rate = line_discount(order.customer, product.category, line.quantity, today)
        if product.hazardous and rate > 0.1:
            rate = 0.1
        discount = gross * rate
        subtotal += gross - discount
        discount_total += discount
    if order.coupon:
        if order.coupon.startswith("WELCOME") and order.customer.since is None:
            subtotal -= min(10.0, subtotal)
        elif order.coupon == "BULK5" and subtotal > 1000:
            subtotal *= 0.95
        elif order.coupon.startswith("STAFF"):
            if order.customer.tier in ("gold", "silver"):
                subtotal *= 0.8
            else:
                subtotal *= 0.9
        else:
            warnings.append(f"coupon {order.coupon} not applicable")
    weight = order.total_weight
    if weight == 0:
        shipping = 0.0
    elif weight < 2:
        shipping = 4.90
    elif weight < 10:
        shipping = 8.90
    elif weight < 30:
        shipping = 16.90
    else:
        shipping = 16.90 + (weight - 30) * 0.5
    if order.customer.country != "DE":
        shipping *= 1.5
    if subtotal > 500 and order.customer.country == "DE":
        shipping = 0.0
    if order.express:
        shipping += EXPRESS_FEE
    vat_rate = 0.0 if order.customer.vat_exempt else VAT.get(order.customer.country, 0.19)
    vat = round((subtotal + shipping) * vat_rate, 2)
    return {
        "subtotal": round(subtotal, 2),
        "discount": round(discount_total, 2),
        "shipping": round(shipping, 2),
        "vat": vat,
        "total": round(subtotal + shipping + vat, 2),
        "warnings": warnings,
    }
