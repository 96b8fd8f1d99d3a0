#include "flow/ContactData.hpp"

namespace callrec::flow {
namespace {

namespace json = boost::json;

json::object AttributesObject(const ContactData& contact) {
  json::object attributes;
  for (const auto& [key, value] : contact.attributes) attributes[key] = value;
  return attributes;
}

std::string InstanceArn(const ContactData& contact) {
  if (!contact.instance_arn.empty()) return contact.instance_arn;
  if (contact.instance_id.starts_with("arn:")) return contact.instance_id;
  // Region and account are not known here; the instance id is what readers use.
  return "arn:aws:connect:::instance/" + contact.instance_id;
}

}  // namespace

std::string InitialContactIdOf(const ContactData& contact) {
  return contact.initial_contact_id.empty() ? contact.contact_id : contact.initial_contact_id;
}

json::object FlowData(const ContactData& contact, const json::object& external,
                      const json::object& views) {
  json::object data;
  data["ContactId"] = contact.contact_id;
  data["InitialContactId"] = InitialContactIdOf(contact);
  data["PreviousContactId"] = contact.contact_id;
  if (!contact.related_contact_id.empty()) data["RelatedContactId"] = contact.related_contact_id;
  data["Channel"] = contact.channel;
  data["InstanceARN"] = InstanceArn(contact);
  if (!contact.agent_id.empty()) data["Agent"] = json::object{{"UserName", contact.agent_id}};
  data["Attributes"] = AttributesObject(contact);
  data["External"] = external;
  data["Views"] = views;
  return data;
}

json::object LambdaEvent(const ContactData& contact, json::object parameters) {
  json::object contact_data;
  contact_data["Attributes"] = AttributesObject(contact);
  contact_data["Channel"] = contact.channel;
  contact_data["ContactId"] = contact.contact_id;
  contact_data["InitialContactId"] = InitialContactIdOf(contact);
  contact_data["PreviousContactId"] = contact.contact_id;
  if (!contact.related_contact_id.empty())
    contact_data["RelatedContactId"] = contact.related_contact_id;
  contact_data["InstanceARN"] = InstanceArn(contact);
  contact_data["InitiationMethod"] = "INBOUND";
  return json::object{
      {"Name", "ContactFlowEvent"},
      {"Details", json::object{{"ContactData", std::move(contact_data)},
                               {"Parameters", std::move(parameters)}}},
  };
}

}  // namespace callrec::flow
