"""Localized WhatsApp strings: media placeholders, deleted-message notices, edit markers and the
system notices that iOS exports attribute to a sender. Each table was written for this project
from the strings WhatsApp shows in its exports (English, German, Spanish, French, Italian,
Portuguese, Russian, Ukrainian, Czech, Dutch, Turkish, Indonesian, Hindi, Japanese, Thai,
Vietnamese, Arabic). Lookups go through sets and precompiled regexes so the parser's hot loop stays
cheap: most messages are rejected by one dict lookup on their first characters."""

from __future__ import annotations

import re
import unicodedata

from twin.ingest.record import Kind

# Zero-width and directional marks that exports sprinkle anywhere (LRM, RLM, embeddings, isolates,
# BOM/ZWNBSP). Removed from text; U+202F / U+00A0 are whitespace to the header regexes.
INVISIBLE = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
INVISIBLE_RE = re.compile(f"[{INVISIBLE}]")


def key(text: str) -> str:
    """The form a short message is compared in: lower-cased, NFC, without a trailing full stop."""
    low = text.lower().rstrip(".。")
    return low if low.isascii() else unicodedata.normalize("NFC", low)


def _keys(*texts: str) -> frozenset[str]:
    return frozenset(key(t) for t in texts)


DELETED = _keys(
    "This message was deleted",
    "You deleted this message",
    "This message was deleted by admin",
    "Diese Nachricht wurde gelöscht",
    "Du hast diese Nachricht gelöscht",
    "Se eliminó este mensaje",
    "Eliminaste este mensaje",
    "Este mensaje fue eliminado",
    "Ce message a été supprimé",
    "Vous avez supprimé ce message",
    "Questo messaggio è stato eliminato",
    "Hai eliminato questo messaggio",
    "Esta mensagem foi apagada",
    "Apagou esta mensagem",
    "Você apagou esta mensagem",
    "Mensagem apagada",
    "Данное сообщение удалено",
    "Вы удалили данное сообщение",
    "Это сообщение было удалено",
    "Вы удалили это сообщение",
    "Це повідомлення було видалено",
    "Ви видалили це повідомлення",
    "Tato zpráva byla smazána",
    "Tuto zprávu jste smazal/a",
    "Tuto zprávu jste smazal(a)",
    "Tato zpráva byla odstraněna",
    "Tuto zprávu jste odstranil/a",
    "Dit bericht is verwijderd",
    "Je hebt dit bericht verwijderd",
    "Bu mesaj silindi",
    "Bu mesajı sildiniz",
    "Pesan ini dihapus",
    "Pesan ini telah dihapus",
    "Anda menghapus pesan ini",
    "यह मैसेज डिलीट कर दिया गया है",
    "आपने यह मैसेज डिलीट किया",
    "このメッセージは削除されました",
    "このメッセージを削除しました",
    "ข้อความนี้ถูกลบแล้ว",
    "คุณได้ลบข้อความนี้",
    "Tin nhắn này đã bị xóa",
    "Tin nhắn này đã bị xoá",
    "Bạn đã xoá tin nhắn này",
    "Bạn đã xóa tin nhắn này",
    "تم حذف هذه الرسالة",
    "لقد حذَفت هذه الرسالة",
    "لقد حذفت هذه الرسالة",
)

MEDIA = _keys(
    # Android "without media" exports.
    "<Media omitted>",
    "<Medien ausgeschlossen>",
    "<Multimedia omitido>",
    "<Archivo omitido>",
    "<Médias omis>",
    "<Media omessi>",
    "<Mídia oculta>",
    "<Arquivo de mídia oculto>",
    "<Ficheiro multimédia omitido>",
    "<Без медиафайлов>",
    "<Медиафайл отсутствует>",
    "<Без медіафайлів>",
    "<Média vynechány>",
    "<Media weggelaten>",
    "<Medya dahil edilmedi>",
    "<Media tidak disertakan>",
    "<Video note omitted>",
    "<Videonachricht weggelassen>",
    "<View once voice message omitted>",
    "null",
    "live location shared",
    "Live-Standort wird geteilt",
    "Ubicación en tiempo real compartida",
    "Position en direct partagée",
    "Posizione in tempo reale condivisa",
    "Localização em tempo real partilhada",
    "Трансляция геопозиции",
    # iOS "without media" exports.
    "image omitted",
    "video omitted",
    "audio omitted",
    "sticker omitted",
    "GIF omitted",
    "Contact card omitted",
    "document omitted",
    "video note omitted",
    "Bild weggelassen",
    "Video weggelassen",
    "Audio weggelassen",
    "Sticker weggelassen",
    "GIF weggelassen",
    "Kontaktkarte ausgelassen",
    "Dokument weggelassen",
    "imagen omitida",
    "Video omitido",
    "audio omitido",
    "sticker omitido",
    "GIF omitido",
    "Tarjeta de contacto omitida",
    "documento omitido",
    "image absente",
    "vidéo absente",
    "audio omis",
    "sticker omis",
    "GIF retiré",
    "Fiche contact manquante",
    "document manquant",
    "immagine omessa",
    "video omesso",
    "audio omesso",
    "sticker non incluso",
    "GIF esclusa",
    "Scheda contatto omessa",
    "documento omesso",
    "imagem não revelada",
    "vídeo não revelado",
    "ficheiro de áudio não revelado",
    "sticker não revelado",
    "GIF não revelada",
    "Contacto não revelado",
    "documento não revelado",
    "imagem ocultada",
    "vídeo omitido",
    "áudio ocultado",
    "figurinha omitida",
    "cartão do contato omitido",
    "изображение отсутствует",
    "видео отсутствует",
    "аудиофайл отсутствует",
    "стикер не добавлен",
    "стикер отсутствует",
    "GIF отсутствует",
    "Карточка контакта отсутствует",
    "документ отсутствует",
    "зображення відсутнє",
    "відео відсутнє",
    "аудіо відсутнє",
    "Наклейку не додано",
    "GIF-анімацію пропущено",
    "Картка контакту відсутня",
    "документ пропущено",
    "obrázek vynechán",
    "video vynecháno",
    "zvukový soubor vynechán",
    "nálepka vynechána",
    "GIF vynechán",
    "Vizitka vynechána",
    "dokument vynechán",
    "afbeelding weggelaten",
    "video weggelaten",
    "audio weggelaten",
    "sticker weggelaten",
    "GIF weggelaten",
    "Contactkaart weggelaten",
    "document weggelaten",
    "görüntü dahil edilmedi",
    "video dahil edilmedi",
    "ses dahil edilmedi",
    "çıkartma dahil edilmedi",
    "GIF dahil edilmedi",
    "Kişi kartı dahil edilmedi",
    "gambar tidak disertakan",
    "video tidak disertakan",
    "audio tidak disertakan",
    "stiker tidak disertakan",
    "GIF tidak disertakan",
    "Kartu kontak tidak disertakan",
    "dokumen tidak disertakan",
    "फ़ोटो हटाई गई",
    "वीडियो छोड़ा गया",
    "ऑडियो हटाई गयी",
    "स्टिकर छोड़ा गया",
    "GIF छोड़ा गया",
    "कॉन्टैक्ट कार्ड छोड़ा गया",
    "डॉक्यूमेंट छोड़ा गया",
    "画像は含まれていません",
    "ビデオは含まれていません",
    "音声は含まれていません",
    "スタンプは含まれていません",
    "GIFは含まれていません",
    "連絡先カードを省略",
    "ドキュメントは含まれていません",
    "ไม่มีรูปภาพ",
    "วิดีโอถูกลบ",
    "ไม่มีไฟล์เสียง",
    "ไม่มีสติกเกอร์",
    "ละเว้น GIF",
    "บัตรรายชื่อที่ละเว้น",
    "ละเว้นเอกสาร",
    "đã bỏ qua hình ảnh",
    "đã bỏ video",
    "bỏ qua tệp âm thanh",
    "đã bỏ sticker",
    "Đã bỏ qua ảnh GIF",
    "Bỏ qua thẻ liên lạc",
    "đã bỏ qua tài liệu",
    "لم يتم إدراج الصورة",
    "لم يتم إدراج الفيديوهات",
    "لم يتم إدراج المقاطع الصوتية",
    "تم حذف الملصقات",
    "لم يتم إدراج صورة GIF",
    "لم يتم إدراج بطاقة جهة اتصال",
    "لم يتم إدراج المستند",
)

# Call notices that Android exports write under the caller's name.
SYSTEM = _keys(
    "Missed voice call",
    "Missed video call",
    "Missed group voice call",
    "Missed group video call",
    "Verpasster Sprachanruf",
    "Verpasster Videoanruf",
    "Llamada perdida",
    "Llamada de voz perdida",
    "Videollamada perdida",
    "Appel vocal manqué",
    "Appel vidéo manqué",
    "Chiamata vocale persa",
    "Videochiamata persa",
    "Chamada de voz perdida",
    "Chamada de vídeo perdida",
    "Пропущенный аудиозвонок",
    "Пропущенный видеозвонок",
    "Пропущений аудіодзвінок",
    "Пропущений відеодзвінок",
    "Zmeškaný hovor",
    "Zmeškaný videohovor",
    "Gemiste spraakoproep",
    "Gemiste video-oproep",
    "Cevapsız sesli arama",
    "Cevapsız görüntülü arama",
    "Panggilan suara tak terjawab",
    "Panggilan video tak terjawab",
)

# One lookup classifies a short message: "deleted", "media" or "system".
KINDS: dict[str, Kind] = {
    **dict.fromkeys(MEDIA, "media"),
    **dict.fromkeys(DELETED, "deleted"),
    **dict.fromkeys(SYSTEM, "system"),
}

# "Report.pdf • 2 pages document omitted": a document placeholder after the file's name.
DOCUMENT_SUFFIXES = tuple(
    sorted(
        {
            k
            for k in MEDIA
            if any(
                w in k
                for w in (
                    "document",
                    "dokument",
                    "documento",
                    "документ",
                    "डॉक्यूमेंट",
                    "ドキュメント",
                    "เอกสาร",
                    "tài liệu",
                    "المستند",
                    "dokumen",
                )
            )
        },
        key=len,
        reverse=True,
    )
)

# "IMG-20220323-WA0002.jpg (file attached)" and its translations ("(Datei angehängt)", ...):
# a file name, then a short parenthesized note. Only the file part is language-independent.
FILE_ATTACHED_RE = re.compile(r"^([^\s()<>]+\.[A-Za-z0-9]{2,5}) \(([^()]{3,40})\)$")
# "<attached: 00000035-PHOTO-2022-03-27-21-41-55.jpg>", "<Anhang: PTT-….opus>", "<adjunto: …>".
ATTACHED_RE = re.compile(r"<[^<>:\n]{2,30}: ([^<>\n]+\.[A-Za-z0-9]{2,5})>$")
# Shared locations and venues: "Location: https://maps.google.com/?q=…", "Standort: …".
LOCATION_RE = re.compile(r"(?:^|: )https://(?:maps\.google\.com/\?q=|foursquare\.com/v/)\S+$")

EDITED_RE = re.compile(
    r"\s*<(?:This message was edited|Diese Nachricht wurde bearbeitet|Se editó este mensaje\.?"
    r"|Ce message a été modifié|Questo messaggio è stato modificato|Esta mensagem foi editada"
    r"|Mensagem editada|Сообщение изменено|Повідомлення змінено|Dit bericht is bewerkt"
    r"|Tato zpráva byla upravena|Bu mesaj düzenlendi|Pesan ini telah diedit"
    r"|このメッセージは編集されました|Tin nhắn này đã được chỉnh sửa|تم تعديل هذه الرسالة)>$",
    re.IGNORECASE,
)

# The start of the end-to-end encryption notice, which iOS (and some old Android) exports attribute
# to the chat as if it were a sender ("Pokemon Chat: Messages and calls are end-to-end …").
_ENCRYPTION_STARTS = (
    "Messages and calls are end-to-end encrypted",
    "Messages to this chat and calls are now secured",
    "Messages you send to this chat and calls are now secured",
    "Messages you send to this group are now secured",
    "Messages to this group are now secured",
    "Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt",
    "Nachrichten an diese Gruppe sind jetzt mit Ende-zu-Ende",
    "Los mensajes y las llamadas están cifrados de extremo a extremo",
    "Los mensajes y llamadas están cifrados de extremo a extremo",
    "Les messages et les appels sont chiffrés de bout en bout",
    "I messaggi e le chiamate sono crittografati end-to-end",
    "As mensagens e chamadas são encriptadas ponto a ponto",
    "As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta",
    "Сообщения и звонки защищены сквозным шифрованием",
    "Повідомлення та дзвінки захищені наскрізним шифруванням",
    "Zprávy a hovory jsou zabezpečeny koncovým šifrováním",
    "Zprávy a hovory jsou opatřeny koncovým šifrováním",
    "Berichten en gesprekken worden end-to-end versleuteld",
    "Mesajlar ve aramalar uçtan uca şifrelidir",
    "Pesan dan panggilan terenkripsi secara end-to-end",
)
ENCRYPTION_HEAD = 12
ENCRYPTION_HEADS = frozenset(s[:ENCRYPTION_HEAD] for s in _ENCRYPTION_STARTS)
ENCRYPTION_STARTS = _ENCRYPTION_STARTS

# System notices iOS writes under a sender name with a leading U+200E: security-code changes,
# encryption notices, missed calls, group membership and settings. Searched only in texts that
# start with U+200E and are not media or deleted notices, so ordinary messages never pay for it.
SYSTEM_AFTER_MARK_RE = re.compile(
    r"end-to-end|Ende-zu-Ende|extremo a extremo|bout en bout|ponto a ponto|ponta a ponta"
    r"|сквозным|наскрізним|koncovým|uçtan uca|مشفرة تمام|ต้นทางถึงปลายทาง|mã hóa đầu cuối"
    r"|एंड-टू-एंड|エンドツーエンド"
    r"|security code|Sicherheitsnummer|Sicherheitscode|code de sécurité|codice di sicurezza"
    r"|código de segurança|código de seguridad|код безопасности|Код безпеки|Bezpečnostní kód"
    r"|beveiligingscode|güvenlik kodu|Kode keamanan|सुरक्षा कोड|セキュリティコード|รหัสความปลอดภัย"
    r"|Mã bảo mật|رمز أمانك"
    r"|^Missed (?:voice|video|group voice|group video) call|^Verpasster|^Llamada perdida"
    r"|^Appel (?:vocal|vidéo) manqué|^Chiamata (?:vocale|video) persa|^Chamada de (?:voz|vídeo) perdida"
    r"|^Пропущенный|^Пропущений|^Zmeškaný|^Gemiste|^Cevapsız|^Panggilan (?:suara|video) tak terjawab"
    r"| (?:added|removed|left|joined|created group|changed the (?:subject|group)|changed this group"
    r"|changed their phone number|changed to \+|now an admin|no longer an admin|blocked this contact"
    r"|unblocked this contact)"
    r"|^(?:You|Du|Tú|Vous|Hai|Você|Вы|Ви|Jste|Je|Siz|Anda) "
    r"|hinzugefügt|entfernt|verlassen|erstellt|geändert|añadió|eliminó|salió|ajouté|retiré|quitté"
    r"|aggiunto|rimosso|uscito|adicionou|removeu|saiu|добавил|удалил|вышел|додав|видалив|вийшов"
    r"|přidal|odebral|opustil|toegevoegd|verwijderd|verlaten|ekledi|çıkardı|ayrıldı"
    r"|menambahkan|mengeluarkan|keluar",
)

# Android system lines have no "sender:" part, but a quoted group name may contain ": ". When the
# would-be sender carries a quote or is implausibly long, the whole line is checked against this.
QUOTE_CHARS = frozenset('"“”„«»「」')
SYSTEM_LINE_RE = re.compile(
    r" (?:created group|changed the subject|changed the group name|changed the group description"
    r"|changed this group's)"
    r"|^You (?:created group|changed the subject|changed the group name)"
    r"|Gruppe|Gruppennamen|Betreff|grupo|groupe|gruppo|группу|групу|skupinu|groep|grubu|grup",
    re.IGNORECASE,
)

# Chat titles from export file names, in the languages WhatsApp names its exports in.
TITLE_RES = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^WhatsApp[\s_-]*Chat\s*(?:with|-|–|mit|met|con|avec|com|z|dengan)\s+(?P<t>.+)$",
        r"^Chat\s+(?:de\s+|do\s+|)WhatsApp\s+(?:con|com|avec|with|mit|met|dengan|s uživatelem|s|z)\s+(?P<t>.+)$",
        r"^Conversa\s+do\s+WhatsApp\s+com\s+(?P<t>.+)$",
        r"^Discussion\s+WhatsApp\s+avec\s+(?P<t>.+)$",
        r"^Czat\s+WhatsApp\s+z\s+(?P<t>.+)$",
        r"^Чат\s+WhatsApp\s+(?:с\s+контактом|с|з)\s+(?P<t>.+)$",
        r"^(?P<t>.+?)\s+ile\s+WhatsApp\s+Sohbeti$",
    )
)
