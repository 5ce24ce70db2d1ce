"""Model analysis: parameter and multiply-add counts, and the named-model table built from them."""
from .complexity import count_gmacs, count_params
from .table import ModelRow, markdown_table, model_table_rows

__all__ = ['ModelRow', 'count_gmacs', 'count_params', 'markdown_table', 'model_table_rows']
