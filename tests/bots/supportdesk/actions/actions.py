"""Custom actions of the helpdesk assistant, served by `rasa run actions`."""

import re
import uuid
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

SUPPORTED_PRODUCTS = {"laptop", "phone", "printer", "monitor", "vpn", "wifi"}
EMAIL_PATTERN = re.compile(r"^[\w.+-]+@[\w-]+\.[\w.-]+$")
MIN_DESCRIPTION_LENGTH = 5


class ValidateTicketForm(FormValidationAction):
    """Checks the slots of `ticket_form` as the user fills them."""

    def name(self) -> Text:
        return "validate_ticket_form"

    def validate_product(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        product = str(slot_value).lower()
        if product in SUPPORTED_PRODUCTS:
            return {"product": product}
        dispatcher.utter_message(response="utter_product_not_supported", product=slot_value)
        return {"product": None}

    def validate_problem_description(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        description = str(slot_value).strip()
        if len(description) >= MIN_DESCRIPTION_LENGTH:
            return {"problem_description": description}
        return {"problem_description": None}

    def validate_email(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        if EMAIL_PATTERN.match(str(slot_value)):
            return {"email": slot_value}
        dispatcher.utter_message(response="utter_invalid_email")
        return {"email": None}


class ActionCreateTicket(Action):
    """Opens a ticket from the form's slots and tells the user its id."""

    def name(self) -> Text:
        return "action_create_ticket"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Dict[Text, Any]]:
        ticket_id = f"HD-{uuid.uuid4().hex[:8].upper()}"
        dispatcher.utter_message(
            response="utter_ticket_created",
            ticket_id=ticket_id,
            product=tracker.get_slot("product"),
            email=tracker.get_slot("email"),
        )
        return [
            SlotSet("ticket_id", ticket_id),
            SlotSet("problem_description", None),
        ]
