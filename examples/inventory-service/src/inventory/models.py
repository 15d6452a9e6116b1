"""Plain data objects of the inventory domain."""

from dataclasses import dataclass, field
from datetime import date
from typing import List, Optional


@dataclass
class Product:
    sku: str
    name: str
    unit_price: float
    category: str
    weight_kg: float = 0.0
    hazardous: bool = False
    discontinued: bool = False


@dataclass
class Customer:
    customer_id: str
    tier: str = "standard"
    country: str = "DE"
    vat_exempt: bool = False
    since: Optional[date] = None


@dataclass
class OrderLine:
    product: Product
    quantity: int


@dataclass
class Order:
    order_id: str
    customer: Customer
    lines: List[OrderLine] = field(default_factory=list)
    coupon: Optional[str] = None
    express: bool = False

    def add(self, product: Product, quantity: int) -> None:
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self.lines.append(OrderLine(product, quantity))

    @property
    def total_weight(self) -> float:
        return sum(line.product.weight_kg * line.quantity for line in self.lines)
