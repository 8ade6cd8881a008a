from piccolo.columns import Timestamptz, Varchar
from piccolo.table import Table

from backend.tables_base import created_column, id_column


class LoginFailure(Table):
    """One failed login, keyed by account (`email:...`) and by client address (`ip:...`).

    Kept in the database so the limit holds across app processes and restarts.
    """

    id = id_column()
    key = Varchar(length=300, index=True)
    at = Timestamptz(index=True)
    created_at = created_column()
