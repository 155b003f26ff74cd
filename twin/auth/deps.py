"""The authentication dependencies, where the security code's readers look for them."""

from twin.api.deps import PrincipalDep, SessionDep, require

__all__ = ["PrincipalDep", "SessionDep", "require"]
