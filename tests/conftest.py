import pytest

from offline.plan import build_plan
from tests.planview import PlanView


@pytest.fixture(scope="session")
def dev_plan() -> PlanView:
    return PlanView(build_plan("dev"))


@pytest.fixture(scope="session")
def prod_plan() -> PlanView:
    return PlanView(build_plan("prod"))
