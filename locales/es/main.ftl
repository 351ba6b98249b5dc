## The connect page
connect-title = Conecte su CRM
connect-lead = Lleve sus bots de Telegram a los chats del CRM. Introduzca la dirección de su CRM y una clave API, y este módulo se registrará en su CRM.
connect-crm-url = Dirección del CRM
connect-crm-url-hint = La dirección en la que abre su CRM, por ejemplo https://yourshop.retailcrm.ru
connect-api-key = Clave API
connect-api-key-hint = Créela en el CRM en Ajustes → Integración → Claves API, con los permisos integration_read e integration_write.
connect-submit = Conectar

## The settings page
settings-title = Ajustes
settings-heading = Su CRM está conectado
settings-reconnect = La pasarela de chat ya no acepta el token de esta cuenta, así que los mensajes no llegan.
settings-reconnect-link = Vuelva a conectar el CRM
settings-reconnect-after = {" "}para solucionarlo.
settings-crm = CRM
settings-status = Estado
settings-status-active = Activo
settings-status-frozen = Congelado por el CRM
settings-status-off = Desactivado en el CRM
settings-mg-endpoint = Pasarela de chat
settings-connected = Conectado
settings-bots = Bots de Telegram
settings-no-bots = Todavía no hay bots. Añada uno abajo: sus chats aparecerán en el CRM.
settings-bot = Bot
settings-bot-channel = Canal
settings-bot-status = Estado
settings-bot-added = Añadido
settings-bot-active = Activo
settings-bot-removed = Eliminado
settings-bot-remove = Eliminar
settings-add-bot = Añadir un bot
settings-add-bot-hint = Cree un bot con @BotFather en Telegram y pegue el token que le dé, por ejemplo 123456789:AAH…
settings-add-bot-submit = Añadir bot
settings-back = Volver al CRM
settings-date-unknown = desconocida

## Message pages
message-connect-link = Conectar un CRM
page-not-found = Página no encontrada
page-not-found-text = No hay nada en esta dirección.
page-not-found-reconnect = No hay nada en esta dirección. Si llegó mediante un enlace de su CRM, vuelva a conectar el CRM.
page-form-expired = Formulario caducado
page-form-expired-text = Este formulario caducó o se envió desde otro sitio. Abra la página de nuevo y vuelva a enviarlo.
page-bad-request = Solicitud incorrecta
page-bad-request-text = No se pudo leer la solicitud. Abra la página de nuevo y vuelva a enviarlo.
page-internal = Algo salió mal
page-internal-text = Algo salió mal por nuestra parte. Inténtelo de nuevo dentro de unos minutos.
