"""Stock levels across warehouses."""

from collections import defaultdict
from typing import Dict, List, Tuple


class StockLedger:
    """Quantities per (warehouse, sku), with reservations."""

    def __init__(self) -> None:
        self._on_hand: Dict[Tuple[str, str], int] = defaultdict(int)
        self._reserved: Dict[Tuple[str, str], int] = defaultdict(int)

    def receive(self, warehouse: str, sku: str, quantity: int) -> None:
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self._on_hand[(warehouse, sku)] += quantity

    def available(self, warehouse: str, sku: str) -> int:
        key = (warehouse, sku)
        return self._on_hand[key] - self._reserved[key]

    def reserve(self, sku: str, quantity: int, preferred: List[str]) -> List[Tuple[str, int]]:
        """Reserve stock, preferred warehouses first; all or nothing."""
        plan = []
        remaining = quantity
        for warehouse in preferred:
            if remaining == 0:
                break
            free = self.available(warehouse, sku)
            if free <= 0:
                continue
            take = min(free, remaining)
            plan.append((warehouse, take))
            remaining -= take
        if remaining > 0:
            return []
        for warehouse, take in plan:
            self._reserved[(warehouse, sku)] += take
        return plan

    def release(self, warehouse: str, sku: str, quantity: int) -> None:
        key = (warehouse, sku)
        self._reserved[key] = max(0, self._reserved[key] - quantity)
