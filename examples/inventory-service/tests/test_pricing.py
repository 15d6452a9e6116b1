from datetime import date

from inventory.models import Customer, Order, Product
from inventory.pricing import price_order


def test_gold_customer_gets_ten_percent():
    order = Order("o1", Customer("c1", tier="gold"))
    order.add(Product("s1", "Hammer", 20.0, "tools", weight_kg=1.0), 1)
    result = price_order(order, date(2021, 3, 1))
    assert result["discount"] == 2.0
