"""Customer returns (SPEC §14): the request body of `POST /api/v1/returns`, each return command's
parameters, and the return as the API answers it. The service validates with these models and
the OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from app.schemas.commands import CommandParams, NoParams
from app.schemas.common import MAX_INT, Code

Sku = Annotated[str, Field(min_length=1, max_length=64, description="The product's SKU.")]
Note = Annotated[str, Field(min_length=1, max_length=500, description="Why, in plain words.")]
Units = Annotated[int, Field(ge=0, le=100_000)]


def _each_sku_once(items: list) -> None:
    skus = [i.sku for i in items]
    if len(skus) != len(set(skus)):
        raise ValueError("List each SKU once.")


class ReturnItemIn(CommandParams):
    sku: Sku
    quantity: int = Field(ge=1, le=100_000, description="Units the customer sends back.")
    reason: Note | None = Field(None, description="The customer's reason (e.g. 'too small').")


class ReturnIn(CommandParams):
    order: int = Field(ge=1, le=MAX_INT, description="The order's id.")
    location: Code = Field(description="Code of the location that receives the return.")
    items: list[ReturnItemIn] = Field(min_length=1, max_length=500)
    reason: Note | None = Field(None, description="A reason for the whole return (optional).")

    @model_validator(mode="after")
    def _unique(self) -> ReturnIn:
        _each_sku_once(self.items)
        return self


class ReceivedLine(CommandParams):
    sku: Sku
    quantity: Units = Field(description="Every unit of this SKU that arrived.")
    note: Note | None = Field(None, description="Required when more or fewer units arrived than the return lists.")


class ReceiveParams(CommandParams):
    items: list[ReceivedLine] | None = Field(
        None, max_length=500,
        description="What arrived per SKU. Leave out to receive every line as listed (or as counted on the "
                    "receiving screen); when given, a line not listed arrived with 0 units.")

    @model_validator(mode="after")
    def _unique(self) -> ReceiveParams:
        _each_sku_once(self.items or [])
        return self


class InspectedLine(CommandParams):
    sku: Sku
    resellable: Units = Field(description="Units fit to sell again: restocked at the return's location.")
    damaged: Units = Field(0, description="Units that cannot be sold: written off.")
    reason: Note | None = Field(None, description="Required when units are damaged.")


class InspectParams(CommandParams):
    items: list[InspectedLine] = Field(min_length=1, max_length=500,
                                       description="Every received SKU, its units split into resellable and damaged.")

    @model_validator(mode="after")
    def _unique(self) -> InspectParams:
        _each_sku_once(self.items)
        return self


class ReturnCancelParams(CommandParams):
    reason: Note | None = None


RETURN_COMMAND_PARAMS: dict[str, type[CommandParams]] = {
    "ship": NoParams,
    "receive": ReceiveParams,
    "inspect": InspectParams,
    "cancel": ReturnCancelParams,
}


class ReturnItemOut(BaseModel):
    id: int
    sku: str
    name: str
    barcodes: list[str]
    quantity: int
    reason: str | None
    received: int
    resellable: int
    damaged: int
    note: str | None


class ReturnOut(BaseModel):
    id: int
    number: str
    state: str
    source: str
    order: dict
    location: str
    package: dict | None
    reason: str | None
    items: list[ReturnItemOut]
    allowed_commands: list[str]
    received_at: str | None
    inspected_at: str | None
    created_at: str
    updated_at: str
