"""Hook implementations of the recipe-index plugin."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_recipe_index.index import RecipeIndex

    register(RecipeIndex)
