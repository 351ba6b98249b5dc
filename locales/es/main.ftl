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
settings-bots = Bots
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
settings-business = Cuentas de Telegram Business
settings-business-howto = También puede responder desde el CRM en su propia cuenta de Telegram: en Telegram, Ajustes → Telegram Business → Chatbots, elija uno de los bots de arriba. Cada cuenta conectada así aparece aquí, con su propio canal.
settings-business-account = Cuenta
settings-business-rights = Permisos
settings-business-connected = Conectada
settings-business-off = Desactivada
settings-business-can-reply = responder
settings-business-can-read = marcar como leído
settings-bot-messenger = Mensajería
settings-add-max-bot = Añadir un bot de MAX
settings-add-max-bot-hint = Cree un bot en business.max.ru (Chat bots → Crear bot) y pegue su token de la pestaña Integración.
settings-back = Volver al CRM
settings-date-unknown = desconocida

## The failed list
failed-title = Entregas fallidas
failed-alert = Algunos mensajes no llegaron a su chat: vea Entregas fallidas
failed-none = No hay entregas fallidas: todos los mensajes de los últimos días llegaron a su chat.
failed-howto = Estos mensajes no llegaron a su chat. Corrija la causa indicada y vuelva a enviarlos; un mensaje reenviado va después de los mensajes de su chat que llegaron mientras tanto. Descartar lo elimina para siempre.
failed-retry-all = Reintentar todos
failed-retry = Reintentar
failed-discard = Descartar
failed-when = Falló
failed-accepted = recibido
failed-direction = Dirección
failed-direction-to-crm = Cliente → CRM
failed-direction-to-messenger = CRM → cliente
failed-customer = Cliente
failed-customer-unknown = (sin nombre)
failed-reason = Motivo
failed-attempts = Intentos
failed-outcome-retry = falló, se reintentó después
failed-outcome-failed = falló definitivamente
failed-newer = ← Más recientes
failed-older = Más antiguos →
failed-reason-refused-by-mg = El chat del CRM rechazó el mensaje.
failed-reason-refused-by-messenger = El mensajero rechazó el mensaje.
failed-reason-customer-unreachable = El cliente bloqueó el bot o no se le puede escribir.
failed-reason-reply-window-closed = Pasó el plazo para responder (Telegram Business permite 24 horas).
failed-reason-spam-suspicion = El mensajero consideró el mensaje spam.
failed-reason-gave-up = Siguió fallando durante un día (el otro lado no respondía); reinténtelo cuando vuelva.
failed-reason-unknown = Falló.

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

## Why a CRM address was refused (inside error-connect-invalid-url)
address-empty = introduzca la dirección de su CRM, por ejemplo https://yourshop.retailcrm.ru
address-unreadable = { $address } no se puede leer como URL ({ $error })
address-https-only = al CRM solo se accede por https; escriba https://
address-not-web = { $scheme }:// no es una dirección web; escriba https://
address-user-info = la dirección no debe contener un nombre de usuario ni una contraseña
address-port = la dirección no debe contener un puerto
address-path = introduzca solo la dirección del CRM, sin ruta (por ejemplo https://yourshop.retailcrm.ru)
address-no-host = la dirección no tiene nombre de host

## Why the CRM did not register the chat transport (inside error-connect-chats)
chats-no-endpoint = su respuesta no incluye la dirección de MessageGateway
chats-empty-token = su respuesta trae un token de MessageGateway vacío
chats-unusable-endpoint = su respuesta no incluye una dirección de MessageGateway utilizable
chats-endpoint-not-public = la dirección de MessageGateway no está en internet pública: { $reason }
chats-endpoint-unresolvable = la dirección de MessageGateway no se resuelve
# The CRM's own words, quoted.
chats-crm-said = { $message }

## Connecting
error-internal = Algo salió mal por nuestra parte. Inténtelo de nuevo dentro de unos minutos.
error-connect-invalid-url = La dirección del CRM no es válida: { $reason }.
error-connect-host-not-allowed = { $host } no es una dirección de CRM a la que este módulo pueda conectarse. Introduzca la dirección de su propio CRM, por ejemplo https://yourshop.retailcrm.ru.
error-connect-blocked = { $host } apunta a { $ip } ({ $class }). Este módulo solo se conecta a CRM en internet pública.
error-connect-unresolvable = { $host } no se resuelve en ninguna dirección. Compruebe la dirección e inténtelo de nuevo.
error-connect-unreachable = No se pudo contactar con el CRM en { $url } ({ $reason }). Compruebe la dirección e inténtelo de nuevo.
error-connect-not-a-crm = { $url } no responde como un CRM. Compruebe que es la dirección en la que abre su CRM.
error-connect-wrong-key = El CRM no acepta esta clave API. Vuelva a copiar la clave en el CRM, en Ajustes → Integración → Claves API.
error-connect-missing-scopes = A esta clave API le faltan los permisos { $scopes }. Edite la clave en el CRM, concédalos e inténtelo de nuevo.
error-connect-no-api-v5 = Este CRM no ofrece la versión 5 de la API (ofrece: { $versions }). Este módulo necesita la API v5.
error-connect-no-versions = ninguna
error-connect-payment = El CRM no activó el módulo por falta de fondos: { $message }. Recargue el saldo de la cuenta del CRM y vuelva a conectar.
error-connect-chats = El CRM no registró el transporte de chat del módulo ({ $reason }). Compruebe que los chats están activados en los ajustes del CRM y vuelva a conectar.
error-connect-crm = El CRM respondió con un error ({ $reason }). Inténtelo de nuevo dentro de unos minutos.
error-api-key-empty = Introduzca la clave API que creó en el CRM.
error-api-key-too-long = Esa clave API es demasiado larga: las claves API del CRM son cadenas cortas de letras y dígitos.
error-api-key-characters = Esa clave API contiene espacios u otros caracteres que una clave API nunca tiene.

## The simple connection
error-register-no-data = No se enviaron datos: el campo `register` del formulario falta o está vacío.
error-register-invalid-json = JSON no válido: `register` debe ser un objeto JSON con token, apiKey y systemUrl.
error-register-too-large = el cuerpo de la solicitud es demasiado grande

## Bots
error-bot-token-empty = Introduzca el token del bot: @BotFather se lo da al crear un bot (/newbot), o de nuevo con /token.
error-bot-token-shape = Eso no parece un token de bot: es el texto que le dio @BotFather, por ejemplo 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw (dígitos, dos puntos y después letras y dígitos).
error-bot-token-characters = Ese token contiene espacios u otros caracteres que un token de bot nunca tiene: cópielo de nuevo de @BotFather, completo.
error-bot-token-length = Ese token está cortado o tiene texto de más: tras los dos puntos, un token tiene unos 35 caracteres entre letras, dígitos, guiones y guiones bajos. Cópielo de nuevo de @BotFather.
error-bot-token-hint-telegram = Cópielo de nuevo de @BotFather (o pida uno nuevo con /token).
error-max-token-empty = Introduzca el token del bot de MAX: está en la pestaña Integración del bot en business.max.ru.
error-max-token-characters = Ese token de MAX contiene espacios u otros caracteres que un token nunca tiene: cópielo de nuevo entero.
error-max-token-length = Ese token de MAX está cortado o tiene texto de más: cópielo de nuevo de la pestaña Integración del bot.
error-bot-token-hint-max = Cópielo de nuevo de la página del bot en business.max.ru (Chat bots → Integración).
error-bot-account-disabled = El módulo está desactivado o congelado en el CRM. Actívelo en el Marketplace del CRM y después añada el bot.
error-bot-needs-reconnect = La pasarela de chat ya no acepta el token de esta cuenta. Vuelva a conectar el CRM y después añada el bot.
error-bot-token-rejected = { $messenger } no acepta este token. { $hint }
error-bot-messenger-unreachable = No se pudo contactar con { $messenger } ({ $reason }). Inténtelo de nuevo dentro de un minuto.
error-bot-messenger-refused = { $messenger } lo rechazó: { $reason }.
error-bot-taken = El bot @{ $bot } ya está conectado a otra cuenta del CRM. Elimínelo allí primero.
error-bot-mg-refused = La pasarela de chat rechazó el canal: { $reason }.
error-bot-mg-unreachable = No se pudo contactar con la pasarela de chat ({ $reason }). Inténtelo de nuevo dentro de un minuto.
error-remove-needs-reconnect = La pasarela de chat ya no acepta el token de esta cuenta. Vuelva a conectar el CRM y después elimine el bot.
error-remove-mg-unreachable = No se pudo contactar con la pasarela de chat ({ $reason }). No se eliminó nada; inténtelo de nuevo dentro de un minuto.
error-remove-mg-refused = La pasarela de chat se negó a eliminar el canal: { $reason }.

## What the bridge writes for a customer's message MG has no type for, in the customer's language
customer-location = 📍 Ubicación: { $latitude }, { $longitude } { $map }
customer-live-location = 📍 Ubicación en tiempo real: { $latitude }, { $longitude } { $map }
customer-contact = 👤 Contacto: { $name }, { $phone }
customer-contact-phone = 👤 Contacto: { $phone }
customer-poll = 📊 Encuesta: { $question }
customer-quiz = 📊 Cuestionario: { $question }
customer-sticker = {"["}sticker]
customer-too-large = 📎 { $name } — archivo demasiado grande para que el bot lo descargue; pida al cliente que lo envíe de otra forma
customer-too-large-sized = 📎 { $name } ({ $size }) — archivo demasiado grande para que el bot lo descargue; pida al cliente que lo envíe de otra forma
customer-megabytes = { $size } MB
customer-file = archivo
customer-file-photo = foto
customer-file-animation = animación
customer-file-video = vídeo
customer-file-video-message = videomensaje
customer-file-voice-message = mensaje de voz
customer-file-audio = audio
customer-file-sticker = sticker
customer-forwarded = ↪ Reenviado de { $name }
customer-forwarded-unknown = ↪ Reenviado
customer-dice = { $emoji } Dado: { $value }
customer-story = 📰 Una historia de { $name } (solo se abre en Telegram)
customer-story-unknown = 📰 Una historia (solo se abre en Telegram)
customer-checklist = ☑️ Lista de tareas: { $title }
customer-paid-media = ⭐ Contenido de pago por { $stars } Stars (solo se abre en Telegram)
customer-giveaway = 🎁 Sorteo, ganadores: { $count }
customer-giveaway-winners = 🏆 Ganadores del sorteo ({ $count }): { $names }
customer-web-app-data = 🧩 Datos de la web app ({ $button }): { $data }
customer-game = 🎮 Juego: { $title }
customer-invoice = 🧾 Factura: { $title }, { $amount } { $currency }
customer-payment = 💳 Pago: { $amount } { $currency }
customer-refund = ↩️ Reembolso: { $amount } { $currency }
customer-service = ℹ️ Un mensaje de servicio de Telegram que el puente no puede mostrar ({ $kind })
customer-unsupported = ℹ️ Un mensaje de Telegram que el puente no puede mostrar; vea el chat en Telegram

## Product and order cards, in the account's language
card-article = Referencia:
card-order = Pedido
card-order-number = Pedido { $number }
card-status = Estado:
card-delivery = Entrega:
card-address = Dirección:
card-payment = Pago:
card-discount = Descuento:
card-total = Total: { $amount }
card-paid = pagado
card-not-paid = no pagado
card-status-new = nuevo
card-status-approval = en aprobación
card-status-assembling = en preparación
card-status-delivery = en entrega
card-status-complete = completado
card-status-cancelled = cancelado

## The bots' health on the settings page, and the CRM administrators' notifications
health-heading = Estado de los bots
health-token = Token
health-token-ok = válido
health-token-bad = revocado
health-webhook = Webhook
health-checked = Última comprobación
health-not-checked = aún sin comprobar
health-last-in = Último mensaje del cliente
health-last-out = Último mensaje del operador
health-delivered = Entregados (24 h)
health-failed = Fallidos (24 h)
health-blocked = Clientes que bloquearon el bot
health-reply-p50 = Primera respuesta, mediana (7 días)
health-reply-p90 = Primera respuesta, el 90 % en (7 días)
health-replies = Chats respondidos (7 días)
health-unanswered = Chats sin respuesta tras 15 min (7 días)
health-never = nunca
health-no-replies = aún sin respuestas
health-webhook-ok = funciona (actualizaciones en espera: { $pending })
health-webhook-error = falla: { $error } (actualizaciones en espera: { $pending })
health-webhook-not-ours = no apunta a este puente
health-webhook-unknown = desconocido mientras se rechace el token
health-duration-seconds = { $n } s
health-duration-minutes = { $n } min
health-duration-hours = { $h } h { $m } min
health-token-revoked = El token de { $bot } se revocó en @BotFather: vuelve a añadir el bot con su nuevo token.
health-token-revoked-max = MAX ya no acepta el token de { $bot }: vuelve a añadir el bot con su nuevo token de business.max.ru.
health-webhook-failing = Telegram no puede entregar al puente los mensajes de { $bot } ({ $error }); actualizaciones en espera: { $pending }. Comprueba que el puente es accesible en su dirección pública, o avisa a quien lo gestiona.
health-webhook-failing-short = Telegram no puede entregar al puente los mensajes de { $bot } y se acumulan. Comprueba que el puente es accesible en su dirección pública, o avisa a quien lo gestiona.
health-webhook-elsewhere = Las actualizaciones de { $bot } van a otra dirección, no a este puente (quizá otro servicio usa el mismo bot): vuelve a añadir el bot aquí para recuperarlas.
health-check-failed = La última comprobación no obtuvo respuesta del mensajero ({ $error }); se muestra la anterior.
health-mg-refused = La pasarela de chats del CRM rechaza el token de esta cuenta y el CRM no dio uno nuevo: vuelve a conectar el CRM.
health-delivery-failures = Más del { $percent } % de los mensajes de los últimos { $minutes } minutos no se pudo entregar: abre las entregas fallidas para ver por qué.
health-notify = { $module }: { $problem } Ajustes: { $url }
